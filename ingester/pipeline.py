"""Between a source and the writer: encode, dedupe, size check, write-ahead log, queue.

Sources call :meth:`Pipeline.accept` with an envelope dict or :meth:`Pipeline.drop` with a reason.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ingester.deletions.store import DeletionStore
from ingester.envelope import MalformedMessage, encode
from ingester.firehose.limits import MAX_RECORD_BYTES
from ingester.stats import Stats
from ingester.storage import DeadLetter, StorageError, Wal
from ingester.writer import FirehoseWriter

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Retry delays while STATE_DIR refuses writes (disk full): the source stays paused in between.
STORAGE_RETRY_START_S = 0.1
STORAGE_RETRY_MAX_S = 2.0
#: At most one "pausing the source" error a minute (a draining spool frees space in bursts: pauses flap).
PAUSE_LOG_INTERVAL_S = 60.0


class RecentIds:
    """Tweet ids seen within the last ``capacity`` accepted tweets (reconnects and backfill repeat posts)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._ids: set[str] = set()
        self._order: deque[str] = deque()

    def seen(self, tweet_id: str) -> bool:
        """True if the id is in the window; otherwise remember it and return False."""
        if self.capacity <= 0:
            return False
        if tweet_id in self._ids:
            return True
        self._ids.add(tweet_id)
        self._order.append(tweet_id)
        if len(self._order) > self.capacity:
            self._ids.discard(self._order.popleft())
        return False

    def __len__(self) -> int:
        return len(self._order)


@dataclass(eq=False, kw_only=True)
class Pipeline:
    """Thread-safe entry point for sources. ``wants_more`` turns False once ``limit`` messages were read."""

    wal: Wal
    writer: FirehoseWriter
    dead_letter: DeadLetter
    stats: Stats
    dedupe_window: int
    limit: int | None = None
    stop_event: threading.Event = field(default_factory=threading.Event)
    deletions: DeletionStore | None = None
    _read: int = field(default=0, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _pauses: int = field(default=0, init=False)
    _pause_logged_at: float = field(default=-PAUSE_LOG_INTERVAL_S, init=False)

    def __post_init__(self) -> None:
        self._recent = RecentIds(self.dedupe_window)

    @property
    def wants_more(self) -> bool:
        if self.stop_event.is_set():
            return False
        return self.limit is None or self._read < self.limit

    def _count_read(self) -> None:
        self._read += 1
        self.stats.incr("read")

    def reset_dedupe(self) -> None:
        """Forget seen ids (a looping replay starts a new pass on purpose)."""
        with self._lock:
            self._recent = RecentIds(self._recent.capacity)

    def drop(self, reason: str) -> None:
        """A message read from the source that is not a tweet we can use (counted, never sent)."""
        with self._lock:
            self._count_read()
            self.stats.drop(reason)

    def accept(self, envelope: dict[str, Any]) -> bool:
        """Take one envelope; returns False if it was a duplicate, dead-lettered, or not accepted because the
        pipeline stopped while STATE_DIR refused writes."""
        tweet_id = str(envelope["tweet"]["id"])
        try:
            data = encode(envelope)
        except MalformedMessage as exc:
            self.drop(exc.reason)
            return False
        author = envelope.get("author", {}).get("id") or envelope["tweet"].get("author_id")
        author_id = str(author) if author is not None else None
        if self._skipped(tweet_id, author_id):
            return False
        if len(data) > MAX_RECORD_BYTES:
            detail = f"{len(data)} bytes > {MAX_RECORD_BYTES}"
            dead = self.dead_letter
            if self._durably(lambda: dead.write(data, "record_too_large", tweet_id=tweet_id, detail=detail)) is None:
                return False
            self.stats.incr("dead_lettered")
            log.warning(
                "tweet id=%s is %d bytes, over the 1,000 KiB Firehose limit: dead-lettered", tweet_id, len(data)
            )
            return False
        segment = self._durably(lambda: self.wal.append(data))
        if segment is None:
            return False
        self.stats.incr("accepted")
        if self.deletions is not None and author_id is not None:
            self.deletions.accepted(tweet_id, author_id)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("accepted tweet id=%s", tweet_id)
        self.writer.put(data, segment, self.stop_event)
        return True

    def _skipped(self, tweet_id: str, author_id: str | None) -> bool:
        """Counts the read; True for a duplicate, or a post deleted (or of an author removed) since: a replay or a
        late copy of it is not sent again."""
        with self._lock:
            self._count_read()
            if self._recent.seen(tweet_id):
                self.stats.incr("duplicates")
                log.debug("duplicate tweet id=%s skipped", tweet_id)
                return True
        if self.deletions is not None and self.deletions.is_deleted(tweet_id, author_id):
            self.stats.incr("deleted_before_send")
            return True
        return False

    def _durably(self, write: Callable[[], T]) -> T | None:
        """Run a durable write, retrying while STATE_DIR refuses it (disk full): the source is paused (it is
        blocked here), nothing is accepted meanwhile. None when stopped first: the message is counted as
        dropped ``storage_unavailable_at_stop`` (it was never accepted)."""
        delay = STORAGE_RETRY_START_S
        paused = False
        try:
            while True:
                try:
                    return write()
                except StorageError as exc:
                    self.stats.incr("storage_errors")
                    if not paused:
                        paused = True
                        self.stats.set("source_paused", f"storage: {exc.reason}")
                        self.stats.error(f"storage: {exc}")
                        self._pauses += 1
                        now = time.monotonic()
                        if now - self._pause_logged_at >= PAUSE_LOG_INTERVAL_S:  # pauses come in bursts as it drains
                            self._pause_logged_at = now
                            log.error(
                                "cannot write to STATE_DIR (%s): pausing the source until it can (pause %d)",
                                exc,
                                self._pauses,
                            )
                if self.stop_event.wait(delay):
                    self.stats.drop("storage_unavailable_at_stop")
                    return None
                delay = min(delay * 2, STORAGE_RETRY_MAX_S)
        finally:
            if paused:
                self.stats.set("source_paused", None)
                log.debug("STATE_DIR writable again: source resumed")
