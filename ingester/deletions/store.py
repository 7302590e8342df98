"""The deletion state on the state volume: which posts we accepted (the ledger) and which were deleted (tombstones).

One append-only JSON-lines file, ``STATE_DIR/deletions.jsonl``, two kinds of line:

* ``{"s": id, "a": author, "t": epoch_s}``: a post accepted into the WAL (the ledger). A source that sees every
  deletion on its platform (Jetstream sends the delete of every post, tens a second) tombstones only the posts
  it stored, and the X compliance runner uploads these ids. Kept ``retention_s`` (the index's retention).
* ``{"d": kind, "id": id, "t": epoch_s, "e": event_epoch_s, "src": source}``: a tombstone. ``kind`` is
  ``post`` (one post id) or ``author`` (every post of that author id). Kept ``tombstone_ttl_s``, which must be
  longer than any buffer a copy of the post can hide in (the WAL and spool, a Firehose buffer and its retries, a
  redrive file in S3 that expires at ``retention_days``).

Failure policy: the file is the durable record of a deletion, so a tombstone is appended and fsynced before
:meth:`DeletionStore.tombstone` returns; when the disk refuses, ``OSError`` is raised to the caller (the source
does not move its cursor past an event it could not record, so Jetstream sends it again). A ledger line is
appended without an fsync: the WAL holds the post itself, and a post missing from the ledger after a power loss
is still deleted when its author is (an ``author`` tombstone) or by the X compliance job. Unreadable lines are
skipped with one warning. The store is bounded: past MAX_ENTRIES live entries the oldest ledger lines go first
(tombstones are never dropped before their expiry: dropping one could resurrect a post); the file is rewritten
(atomically) when it holds more than twice the live entries.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ingester.storage.files import atomic_write

log = logging.getLogger(__name__)

FILE_NAME = "deletions.jsonl"
#: Most ledger entries kept (about 120 bytes each on disk and in memory): the oldest go first beyond it.
MAX_ENTRIES = 2_000_000

TombstoneKind = Literal[
    "post",  # one post, by its id (an X tweet id or a Bluesky AT URI)
    "author",  # every post of an author id (an X user id or a Bluesky DID): account deleted, taken down, suspended
]


@dataclass(frozen=True)
class Tombstone:
    kind: TombstoneKind
    id: str
    #: when we learned of it (epoch seconds): the deleter's lag is measured from here
    recorded_at: float
    #: when the platform says it happened (epoch seconds; Jetstream's time_us), if known
    event_at: float | None
    source: str

    def line(self) -> dict[str, Any]:
        out: dict[str, Any] = {"d": self.kind, "id": self.id, "t": round(self.recorded_at, 3), "src": self.source}
        if self.event_at is not None:
            out["e"] = round(self.event_at, 6)
        return out


def tombstone_lines(stones: list[Tombstone]) -> bytes:
    """Tombstones in the store's line format (what the ingester publishes for ``make redrive``)."""
    return b"".join(json.dumps(s.line(), separators=(",", ":")).encode("utf-8") + b"\n" for s in stones)


def read_tombstone_lines(data: bytes) -> tuple[set[str], set[str]]:
    """(post ids, author ids) of the tombstone lines in ``data`` (ledger and unreadable lines are skipped)."""
    posts: set[str] = set()
    authors: set[str] = set()
    for raw in data.splitlines():
        try:
            item = json.loads(raw)
            kind, item_id = item["d"], str(item["id"])
        except (ValueError, KeyError, TypeError):
            continue
        if kind == "post":
            posts.add(item_id)
        elif kind == "author":
            authors.add(item_id)
    return posts, authors


def record_ids(data: bytes) -> tuple[str, str | None] | None:
    """(post id, author id) of an encoded envelope or transformed document; None when it names no post."""
    try:
        obj = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(obj, dict):
        return None
    tweet, author = obj.get("tweet"), obj.get("author")
    author_id = author.get("id") if isinstance(author, dict) else None
    if isinstance(tweet, dict) and tweet.get("id") is not None:  # an envelope
        author_id = author_id or tweet.get("author_id")
        return str(tweet["id"]), str(author_id) if author_id is not None else None
    if obj.get("tweet_id") is not None:  # a transformed document
        return str(obj["tweet_id"]), str(author_id) if author_id is not None else None
    return None


class DeletionStore:
    """Thread-safe: the source, the pipeline, the writer and the deleter share one store."""

    def __init__(
        self,
        state_dir: Path,
        *,
        retention_s: float,
        tombstone_ttl_s: float,
        clock: Callable[[], float] = time.time,
        max_entries: int = MAX_ENTRIES,
    ) -> None:
        self.path = state_dir / FILE_NAME
        self.retention_s = retention_s
        self.tombstone_ttl_s = tombstone_ttl_s
        self._clock = clock
        self._max_entries = max_entries
        self._lock = threading.Lock()
        #: post id -> (author id, accepted at)
        self._ledger: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._authors: dict[str, int] = {}
        self._posts: dict[str, Tombstone] = {}
        self._by_author: dict[str, Tombstone] = {}
        self._lines = 0
        self._fd: int | None = None
        #: called (outside the lock) after each new tombstone: the deleter's worker wakes up for it
        self.on_tombstone: Callable[[], object] | None = None
        self._load()

    # -- loading and writing ------------------------------------------------------------------------
    def _load(self) -> None:
        now = self._clock()
        bad = 0
        try:
            with self.path.open("rb") as fh:
                for raw in fh:
                    self._lines += 1
                    try:
                        item = json.loads(raw)
                        self._replay(item, now)
                    except (ValueError, KeyError, TypeError):
                        bad += 1
        except FileNotFoundError:
            pass
        if bad:
            log.warning("%s: %d unreadable line(s) skipped", self.path.name, bad)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._maybe_compact()

    def _replay(self, item: dict[str, Any], now: float) -> None:
        if "s" in item:
            post, author, at = str(item["s"]), str(item["a"]), float(item["t"])
            if now - at <= self.retention_s:
                self._remember(post, author, at)
            return
        kind = item["d"]
        if kind not in ("post", "author"):
            raise ValueError(kind)
        event = item.get("e")
        stone = Tombstone(kind, str(item["id"]), float(item["t"]), float(event) if event is not None else None,
                          str(item.get("src", "")))  # fmt: skip
        if now - stone.recorded_at <= self.tombstone_ttl_s:
            (self._posts if kind == "post" else self._by_author)[stone.id] = stone

    def _append(self, lines: Iterable[dict[str, Any]], *, sync: bool) -> None:
        data = b"".join(json.dumps(x, separators=(",", ":")).encode("utf-8") + b"\n" for x in lines)
        if not data or self._fd is None:
            return
        os.write(self._fd, data)
        if sync:
            os.fsync(self._fd)
        self._lines += data.count(b"\n")

    def _remember(self, post: str, author: str, at: float) -> None:
        if post in self._ledger:
            return
        self._ledger[post] = (author, at)
        self._authors[author] = self._authors.get(author, 0) + 1
        while len(self._ledger) > self._max_entries:
            self._forget_oldest()

    def _forget_oldest(self) -> None:
        _, (author, _) = self._ledger.popitem(last=False)
        left = self._authors[author] - 1
        if left:
            self._authors[author] = left
        else:
            del self._authors[author]

    def _live(self) -> int:
        return len(self._ledger) + len(self._posts) + len(self._by_author)

    def _maybe_compact(self) -> None:
        if self._lines <= 2 * self._live() + 1000:
            return
        lines = [{"s": p, "a": a, "t": round(t, 3)} for p, (a, t) in self._ledger.items()]
        lines += [s.line() for s in (*self._posts.values(), *self._by_author.values())]
        data = b"".join(json.dumps(x, separators=(",", ":")).encode("utf-8") + b"\n" for x in lines)
        try:
            atomic_write(self.path, data)
        except OSError as exc:
            log.warning("could not compact %s: %s (appending to it as it is)", self.path.name, exc)
            return
        if self._fd is not None:
            os.close(self._fd)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._lines = len(lines)

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    # -- the ledger ----------------------------------------------------------------------------------
    def accepted(self, post: str, author: str) -> None:
        """A post entered the WAL: remember it for ``retention_s`` (its deletes then become tombstones)."""
        with self._lock:
            if post in self._ledger:
                return
            at = self._clock()
            self._remember(post, author, at)
            try:
                self._append([{"s": post, "a": author, "t": round(at, 3)}], sync=False)
            except OSError as exc:  # the WAL has the post; see the failure policy
                log.warning("could not append to %s: %s", self.path.name, exc)

    def stored(self, kind: TombstoneKind, item_id: str) -> bool:
        """Whether we may hold a copy: a post in the ledger, or an author with a post in it."""
        with self._lock:
            return item_id in (self._ledger if kind == "post" else self._authors)

    def ledger_ids(self, since: float | None = None) -> list[tuple[str, str]]:
        """(post id, author id) of the posts accepted since ``since`` (epoch seconds; all when None)."""
        with self._lock:
            return [(p, a) for p, (a, t) in self._ledger.items() if since is None or t >= since]

    # -- tombstones ----------------------------------------------------------------------------------
    def tombstone(
        self, kind: TombstoneKind, item_id: str, *, source: str, event_at: float | None = None
    ) -> Tombstone | None:
        """Record a deletion durably (fsynced); None when it was already recorded. Raises OSError (not recorded)."""
        with self._lock:
            table = self._posts if kind == "post" else self._by_author
            if item_id in table:
                return None
            stone = Tombstone(kind, item_id, self._clock(), event_at, source)
            self._append([stone.line()], sync=True)
            table[item_id] = stone
            self._maybe_compact()
        if self.on_tombstone is not None:
            self.on_tombstone()
        return stone

    def is_deleted(self, post: str, author: str | None) -> bool:
        with self._lock:
            return post in self._posts or (author is not None and author in self._by_author)

    def covers_record(self, data: bytes) -> bool:
        """Whether an encoded envelope (a WAL, spool or Firehose record) is of a deleted post or author."""
        with self._lock:
            if not self._posts and not self._by_author:
                return False
        ids = record_ids(data)
        return ids is not None and self.is_deleted(*ids)

    def tombstones(self, since: float | None = None) -> list[Tombstone]:
        """The live tombstones recorded since ``since`` (epoch seconds; all when None), oldest first."""
        with self._lock:
            stones = [*self._posts.values(), *self._by_author.values()]
        return sorted((s for s in stones if since is None or s.recorded_at >= since), key=lambda s: s.recorded_at)

    def expire(self) -> int:
        """Drop ledger entries past ``retention_s`` and tombstones past ``tombstone_ttl_s``; returns how many."""
        now = self._clock()
        with self._lock:
            gone = 0
            while self._ledger:
                _, (_, at) = next(iter(self._ledger.items()))
                if now - at <= self.retention_s:
                    break
                self._forget_oldest()
                gone += 1
            for table in (self._posts, self._by_author):
                old = [k for k, s in table.items() if now - s.recorded_at > self.tombstone_ttl_s]
                for key in old:
                    del table[key]
                gone += len(old)
            self._maybe_compact()
            return gone
