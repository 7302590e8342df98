"""Jetstream deletion events as tombstones: delete commits of posts and #account events of removed accounts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ingester.deletions.bluesky import bluesky_deletion
from ingester.sources.bluesky import v1_event
from tests.support.fake_jetstream import BASE_TIME_US, DID, account_event, delete_event, post_event


def test_a_post_delete_commit_names_the_post_by_its_at_uri() -> None:
    assert bluesky_deletion(delete_event(BASE_TIME_US, "3kabc")) == (
        "post",
        f"at://{DID}/app.bsky.feed.post/3kabc",
        BASE_TIME_US / 1_000_000,
    )


@pytest.mark.parametrize("status", ["deleted", "takendown", "suspended"])
def test_a_removed_account_names_its_author(status: str) -> None:
    assert bluesky_deletion(account_event(BASE_TIME_US, status)) == ("author", DID, BASE_TIME_US / 1_000_000)


@pytest.mark.parametrize(
    "event",
    [
        account_event(BASE_TIME_US, "deactivated"),  # reversible: the author may come back
        account_event(BASE_TIME_US, None),
        account_event(BASE_TIME_US, "deleted", active=True),
        post_event(BASE_TIME_US, "a new post"),
        {
            **delete_event(BASE_TIME_US, "3k"),
            "commit": {"operation": "delete", "collection": "app.bsky.feed.like", "rkey": "3k"},
        },
        {**delete_event(BASE_TIME_US, "3k"), "did": "not-a-did"},
        {"kind": "identity", "did": DID, "time_us": BASE_TIME_US},
        "not an object",
    ],
)
def test_other_events_are_not_deletions(event: Any) -> None:
    assert bluesky_deletion(event) is None


def test_jetstream_v2_account_frames_carry_the_status() -> None:
    frame = {
        "$type": "message",
        "payload": {
            "$type": "network.bsky.jetstream.defs#account",
            "did": DID,
            "seq": 7,
            "active": False,
            "status": "takendown",
            "time": "2026-12-01T12:00:00Z",
        },
    }
    when = datetime(2026, 12, 1, 12, tzinfo=UTC).timestamp()
    assert bluesky_deletion(v1_event(frame)) == ("author", DID, when)
