"""Bluesky deletions as Jetstream sends them: delete commits of posts and ``#account`` status events.

Jetstream (bluesky-social/jetstream README, "Example events", read 2026-12) sends a ``commit`` event with
``"operation": "delete"`` (no record) for every deleted record, and an ``account`` event when an account's hosting
status changes: ``{"kind": "account", "account": {"active": false, "did": ..., "seq": ..., "status": ...}}``.

Failure policy: an event that is not a deletion returns None; a deletion without a usable id is returned as None
too (there is nothing to delete by), and counted by the caller as dropped ``bad_deletion``.
"""

from __future__ import annotations

from typing import Any, Literal

from ingester.deletions.store import TombstoneKind
from ingester.envelope import BLUESKY_POST_COLLECTION, bluesky_post_uri

#: The account statuses whose posts we remove: the author removed the account, or Bluesky's moderation took it
#: down or suspended it. ``deactivated`` is left out: the author can reactivate it and the posts come back on
#: Bluesky too; ``active: false`` with no status is the same.
AccountStatus = Literal[
    "deleted",  # the account is gone for good
    "takendown",  # removed by moderation
    "suspended",  # suspended by moderation
]
REMOVED_STATUSES: frozenset[str] = frozenset(("deleted", "takendown", "suspended"))


def bluesky_deletion(event: Any) -> tuple[TombstoneKind, str, float | None] | None:
    """(kind, id, event time in epoch seconds) of a Jetstream event that deletes a post or removes an account."""
    if not isinstance(event, dict):
        return None
    time_us = event.get("time_us")
    event_at = time_us / 1_000_000 if isinstance(time_us, int) and not isinstance(time_us, bool) else None
    if event.get("kind") == "commit":
        uri = _deleted_post(event)
        return None if uri is None else ("post", uri, event_at)
    if event.get("kind") == "account":
        did = _removed_account(event)
        return None if did is None else ("author", did, event_at)
    return None


def _deleted_post(event: dict[str, Any]) -> str | None:
    commit, did = event.get("commit"), event.get("did")
    if not isinstance(commit, dict) or commit.get("operation") != "delete":
        return None
    rkey = commit.get("rkey")
    if commit.get("collection") != BLUESKY_POST_COLLECTION or not isinstance(rkey, str) or not rkey:
        return None
    return bluesky_post_uri(did, rkey) if isinstance(did, str) and did.startswith("did:") else None


def _removed_account(event: dict[str, Any]) -> str | None:
    account = event.get("account")
    if not isinstance(account, dict) or account.get("active") is True:
        return None
    if account.get("status") not in REMOVED_STATUSES:
        return None
    subject = account.get("did", event.get("did"))
    return subject if isinstance(subject, str) and subject.startswith("did:") else None
