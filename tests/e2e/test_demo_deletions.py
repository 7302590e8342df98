"""``make demo ARGS="--source bluesky --opensearch-url ..."`` honours Bluesky deletions: a fake Jetstream sends
1,000 posts (500 match), then delete commits of 100 matching posts (and of 20 others) and the takedown of an
account with 5 matching posts; the deleted posts are in neither the SQLite store nor the (fake) OpenSearch
afterwards, whether their deletes came before the posts left the ingester or while the posts sat in the local
Firehose's buffer (then the deleter's re-apply removes them once the buffer is delivered), and the summary says so."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Literal

import pytest

from tests.e2e.test_demo import demo_env, interrupt_when, rows
from tests.support.fake_jetstream import (
    BASE_TIME_US,
    DID,
    FakeJetstream,
    account_event,
    delete_event,
    fake_jetstream,
    post_event,
)
from tests.support.fake_opensearch import serve
from tests.support.paths import REPO_ROOT

OTHER = "did:plc:takendowntakendowntakend"


def uri(did: str, i: int) -> str:
    return f"at://{did}/app.bsky.feed.post/3k{i:04d}"


def add_posts(js: FakeJetstream) -> None:
    for i in range(1000):
        text = f"post {i} about #AWS" if i % 2 == 0 else f"post {i} about nothing"
        at = text.find("#AWS")
        tag = {"$type": "app.bsky.richtext.facet#tag", "tag": "AWS"}
        facets = [{"index": {"byteStart": at, "byteEnd": at + 4}, "features": [tag]}] if at >= 0 else None
        js.add(post_event(BASE_TIME_US + i, text, rkey=f"3k{i:04d}", facets=facets))
    for i in range(5):
        js.add(post_event(BASE_TIME_US + 1000 + i, "aws by them", rkey=f"3k{i:04d}", did=OTHER))


def add_deletions(js: FakeJetstream) -> None:
    for n, i in enumerate([*range(0, 200, 2), *range(1, 41, 2)]):
        js.add(delete_event(BASE_TIME_US + 2000 + n, f"3k{i:04d}"))
    js.add(account_event(BASE_TIME_US + 3000, "takendown", did=OTHER))


def stored_ids(db: Path) -> set[str]:
    try:
        return {r[0] for r in rows(db, "SELECT tweet_id FROM tweets")}
    except sqlite3.Error:  # not created yet
        return set()


@pytest.mark.parametrize("when", ["before_delivery", "in_firehose_buffer"])
def test_deleted_posts_leave_sqlite_and_opensearch(
    tmp_path: Path, when: Literal["before_delivery", "in_firehose_buffer"]
) -> None:
    out = tmp_path / "out"
    status_file = out / "ingester-state" / "status.json"
    expected = {uri(DID, i) for i in range(200, 1000, 2)}
    buffer_s = "6" if when == "in_firehose_buffer" else "1"
    with fake_jetstream() as js, serve() as fake_os:
        env = {**demo_env(), "BLUESKY_ENDPOINTS": js.url, "TRACKED_TERMS": "aws"}
        proc = subprocess.Popen(
            [sys.executable, "-m", "scripts.demo", "--source", "bluesky", "--no-view", "--output-dir", str(out),
             "--opensearch-url", fake_os.url, "--buffer-interval", buffer_s],
            cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        phase = 0

        def ready() -> bool:
            nonlocal phase
            assert time.monotonic() < deadline, "the demo did not get there in time"
            try:
                status: dict[str, Any] = json.loads(status_file.read_text())
            except (OSError, ValueError):
                return False
            if phase == 0 and js.connections() >= 1:
                phase = 1
                add_posts(js)
                if when == "before_delivery":
                    add_deletions(js)
            if phase == 1 and when == "in_firehose_buffer" and status.get("delivered") == 505:
                # every post is in the local Firehose's buffer (6 s), none in the store yet
                assert stored_ids(out / "tweets.db") == set()
                phase = 2
                add_deletions(js)
            done = status.get("deletions_seen") == 121 and status.get("deletions_pending") == 0
            # the deleter itself (not only the final sweep) removed the late copies
            return done and stored_ids(out / "tweets.db") == expected

        stdout, stderr = interrupt_when(proc, ready)
        assert proc.returncode == 0, stderr
        indexed = {doc["tweet_id"] for docs in fake_os.state.indices.values() for doc in docs.values()}
    assert stored_ids(out / "tweets.db") == expected  # the 100 deleted posts and the taken-down account's 5
    assert indexed == expected
    tagged = {r[0] for r in rows(out / "tweets.db", "SELECT tweet_id FROM tweet_hashtags")}
    assert tagged == expected  # the side tables lost the deleted posts' rows too
    assert "deletions: 121 seen, 101 of stored posts or authors recorded" in stdout
    assert "deletion lag (recorded to applied): p50" in stdout
    assert "final deletion sweep after the flush" in stdout
    report = (out / "report.html").read_text()
    assert "deletions: 121 seen, 101 of stored posts or authors recorded" in report
