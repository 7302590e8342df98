"""The demo's deletion targets: its SQLite store and, with --opensearch-url, the local cluster.

The ingester's deleter (:mod:`ingester.deletions.deleter`) applies Bluesky deletions to them as it applies them to
Amazon OpenSearch Service on AWS: the same tombstones, the same retries and re-applications. After the local
Firehose flushed its buffer, :func:`final_sweep` applies every tombstone once more, as the deployed deleter's
re-apply does after Firehose's buffer and retries: a post deleted while it sat in the buffer does not stay.

Failure policy: a store that refuses a delete raises :class:`~ingester.deletions.deleter.DeletionFailed`; the
deleter keeps the ids pending and retries, and the summary shows what is still pending.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from ingester.deletions.deleter import Deleter, DeletionFailed, DeletionTarget
from ingester.deletions.opensearch import INDEX_PATTERN, delete_query
from ingester.deletions.store import DeletionStore
from ingester.stats import Stats
from scripts.demo.store import SQLiteStore
from scripts.ops.opensearch.client import Client, OpenSearchError


class SQLiteDeleteTarget:
    name = "sqlite"

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store

    def delete(self, posts: Sequence[str], authors: Sequence[str]) -> int:
        try:
            return self.store.delete(posts, authors)
        except sqlite3.Error as exc:
            raise DeletionFailed(f"SQLite: {exc}") from None


class OpenSearchSinkDeleteTarget:
    """``_delete_by_query`` on ``tweets-*`` through the demo's OpenSearch client (its auth and TLS options)."""

    name = "opensearch"

    def __init__(self, client: Client) -> None:
        self.client = client

    def delete(self, posts: Sequence[str], authors: Sequence[str]) -> int:
        if not posts and not authors:
            return 0
        try:
            resp = self.client.request(
                "POST",
                f"{INDEX_PATTERN}/_delete_by_query",
                json_body=delete_query(posts, authors),
                params={"conflicts": "proceed", "refresh": "true"},
            )
            answer = resp.json()
        except OpenSearchError as exc:
            raise DeletionFailed(str(exc)) from None
        except ValueError:
            raise DeletionFailed("_delete_by_query answered with something that is not JSON") from None
        if answer.get("failures"):
            raise DeletionFailed(f"_delete_by_query reported {len(answer['failures'])} failure(s)")
        return int(answer.get("deleted", 0))


def final_sweep(
    state_dir: Path, targets: Sequence[DeletionTarget], *, retention_days: int, tombstone_days: int
) -> Stats:
    """Apply every live tombstone to ``targets`` once more (after the local Firehose flushed); returns the counts."""
    stats = Stats()
    if not targets:
        return stats
    store = DeletionStore(state_dir, retention_s=retention_days * 86_400, tombstone_ttl_s=tombstone_days * 86_400)
    try:
        Deleter(store, targets, stats, reapply_window_s=0).apply_pending()
    finally:
        store.close()
    return stats
