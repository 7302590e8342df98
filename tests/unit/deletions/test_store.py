"""The deletion store: the ledger of accepted posts and the durable, bounded, expiring tombstones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingester.deletions.store import FILE_NAME, DeletionStore

DAY = 86_400.0


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def open_store(tmp_path: Path, clock: Clock, **kwargs: int) -> DeletionStore:
    return DeletionStore(tmp_path, retention_s=30 * DAY, tombstone_ttl_s=35 * DAY, clock=clock, **kwargs)


def envelope(post: str, author: str) -> bytes:
    return json.dumps(
        {"v": 1, "tweet": {"id": post, "text": "x", "author_id": author}, "author": {"id": author}}
    ).encode()


def test_tombstones_and_the_ledger_survive_a_restart(tmp_path: Path) -> None:
    clock = Clock()
    store = open_store(tmp_path, clock)
    store.accepted("p1", "a1")
    store.accepted("p2", "a2")
    assert store.tombstone("post", "p1", source="bluesky", event_at=clock.now - 1) is not None
    assert store.tombstone("post", "p1", source="bluesky") is None  # recorded once
    store.tombstone("author", "a2", source="bluesky")
    store.close()

    again = open_store(tmp_path, clock)
    assert again.stored("post", "p1") and again.stored("author", "a2") and not again.stored("post", "p3")
    assert again.is_deleted("p1", None)
    assert again.is_deleted("p9", "a2")  # any post of a removed author
    assert not again.is_deleted("p2", "a9")
    assert [(s.kind, s.id) for s in again.tombstones()] == [("post", "p1"), ("author", "a2")]
    assert again.covers_record(envelope("p1", "a1")) and again.covers_record(envelope("p7", "a2"))
    assert not again.covers_record(envelope("p2", "a1")) and not again.covers_record(b"not json")


def test_entries_expire_ledger_at_retention_tombstones_at_their_ttl(tmp_path: Path) -> None:
    clock = Clock()
    store = open_store(tmp_path, clock)
    store.accepted("old", "a")
    store.tombstone("post", "gone", source="x")
    clock.now += 31 * DAY
    store.accepted("new", "a")
    assert store.expire() == 1  # the ledger entry past 30 days
    assert not store.stored("post", "old") and store.stored("post", "new")
    assert store.is_deleted("gone", None)  # a tombstone outlives the retention window
    clock.now += 5 * DAY
    store.expire()
    assert not store.is_deleted("gone", None)
    store.close()
    assert not open_store(tmp_path, clock).is_deleted("gone", None)  # and it is not read back either


def test_the_ledger_is_bounded_but_tombstones_are_never_dropped_early(tmp_path: Path) -> None:
    clock = Clock()
    store = open_store(tmp_path, clock, max_entries=3)
    for i in range(5):
        store.tombstone("post", f"t{i}", source="x")
        store.accepted(f"p{i}", "a")
    assert [p for p, _ in store.ledger_ids()] == ["p2", "p3", "p4"]
    assert len(store.tombstones()) == 5


def test_the_file_is_compacted_and_unreadable_lines_are_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    store = open_store(tmp_path, clock, max_entries=10)
    for i in range(3000):
        store.accepted(f"p{i}", "a")
    store.tombstone("post", "p2999", source="x")
    store.close()
    lines = (tmp_path / FILE_NAME).read_bytes().splitlines()
    assert len(lines) < 2 * 11 + 1000 + 1  # rewritten to the live entries, not 3,001 lines
    with (tmp_path / FILE_NAME).open("ab") as fh:
        fh.write(b'{"torn line\n')
    again = open_store(tmp_path, clock, max_entries=10)
    assert again.is_deleted("p2999", None)
    assert "unreadable" in caplog.text


def test_a_tombstone_that_cannot_be_written_raises(tmp_path: Path) -> None:
    store = open_store(tmp_path, Clock())
    store.close()  # the file descriptor is gone: nothing can be appended
    store._fd = -1  # an invalid descriptor: os.write raises OSError, as a full or failing disk would
    with pytest.raises(OSError):
        store.tombstone("post", "p", source="bluesky")
    assert not store.is_deleted("p", None)  # not recorded in memory either
