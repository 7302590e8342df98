"""The write-ahead log: every accepted record is in a segment file before it is queued.

Failure policy: ``append`` raises :class:`~ingester.storage.files.StorageError` (nothing of the record stays) and
the caller does not accept the record; ``commit`` raises ``OSError`` when the fsync fails and is retried by the
group-commit thread. Settle marks and deletes of settled segments that the disk refuses (read-only, full) are
kept in memory and done again at every commit until they succeed: the segment stays in the bookkeeping, so disk
use stays bounded by what is unsettled plus what could not yet be deleted, and a restart does not resend records
that were settled while the disk refused their marks (once the disk is back).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from ingester.storage.files import (
    MARKS_SUFFIX,
    WAL_SUFFIX,
    Marks,
    SegmentSequence,
    StorageError,
    append_checked,
    error_reason,
    fsync_dir,
    segment_name,
    seq_of,
)

log = logging.getLogger(__name__)

#: A WAL ticket packs (segment, line) in one int: what the writer hands back to ``Wal.settle``.
_LINE_BITS = 32


def ticket(seq: int, line: int) -> int:
    """What ``Wal.append`` returns: segment and line in one int (``-1`` means: not in the WAL)."""
    return (seq << _LINE_BITS) | line


class Wal:
    """Write-ahead log: ``append`` writes through to the segment file (no user-space buffer, so a killed
    process loses nothing); ``commit`` fsyncs every WAL_COMMIT_MS (group commit, so a power loss loses at
    most that window), rotates segments and deletes the ones whose records are all settled; ``settle``
    writes settle marks so a restart after a crash resends only the unsettled lines."""

    def __init__(
        self,
        directory: Path,
        sequence: SegmentSequence,
        *,
        commit_interval_s: float = 0.2,
        rotate_bytes: int = 8 * 1024 * 1024,
        rotate_s: float = 2.0,
    ) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        for marks in directory.glob(f"*{MARKS_SUFFIX}"):  # marks of a segment deleted just before a crash
            if not marks.with_suffix(WAL_SUFFIX).exists():
                marks.unlink(missing_ok=True)
        self._seq = sequence
        self._commit_interval_s = commit_interval_s
        self._rotate_bytes = rotate_bytes
        self._rotate_s = rotate_s
        self._lock = threading.Lock()
        self._io_lock = threading.Lock()
        self._marks_lock = threading.Lock()
        self._current = sequence.next()
        self._current_opened = time.monotonic()
        self._current_bytes = 0
        self._fd: int | None = None
        self._torn = False
        self._dirty = False
        self._new_file = False
        self._appended: Counter[int] = Counter()
        self._settled: Counter[int] = Counter()
        self._closed: set[int] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.commits = 0
        self.failed_appends = 0
        self.failed_commits = 0
        self.failed_deletes = 0
        #: settle marks the disk refused, by segment: written again at every commit until they succeed
        self._unmarked: dict[int, list[int]] = {}

    def path(self, seq: int) -> Path:
        return self.directory / segment_name(seq, WAL_SUFFIX)

    def marks(self, seq: int) -> Marks:
        return Marks(self.directory / segment_name(seq, MARKS_SUFFIX))

    def leftover_segments(self) -> list[Path]:
        return sorted(p for p in self.directory.glob(f"*{WAL_SUFFIX}") if seq_of(p) is not None)

    def append(self, data: bytes) -> int:
        """Write one record (no trailing newline) to the current segment; returns its ticket for ``settle``.

        Raises StorageError (nothing of the record stays in the file) when the write fails or is short:
        the caller does not accept the record until a retry succeeds.
        """
        with self._lock:
            seg = self._current
            try:
                if self._fd is None:
                    self._fd = os.open(self.path(seg), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                    self._new_file = True
                if self._torn:  # an earlier failure left a partial line: end it, and never send it
                    append_checked(self._fd, b"\n", self._current_bytes, sync=False, what="write-ahead log")
                    self._torn = False
                    self._current_bytes = os.fstat(self._fd).st_size
                    self._settle_garbage_locked(seg)
                append_checked(self._fd, data, self._current_bytes, sync=False, what="write-ahead log", end=b"\n")
            except StorageError as exc:
                self.failed_appends += 1
                self._torn = self._torn or exc.torn
                if exc.torn and self._fd is not None:
                    self._current_bytes = os.fstat(self._fd).st_size
                raise
            except OSError as exc:
                self.failed_appends += 1
                raise StorageError(error_reason(exc), f"write-ahead log: {exc}") from exc
            line = self._appended[seg]
            self._appended[seg] += 1
            self._current_bytes += len(data) + 1
            self._dirty = True
            return ticket(seg, line)

    def _settle_garbage_locked(self, seg: int) -> None:
        line = self._appended[seg]
        self._appended[seg] += 1
        self._settled[seg] += 1
        self.marks(seg).add([line])

    def settle(self, tickets: Iterable[int]) -> None:
        """These records are delivered / spooled / dead-lettered: the WAL no longer needs them."""
        by_segment: dict[int, list[int]] = {}
        for t in tickets:
            if t >= 0:
                by_segment.setdefault(t >> _LINE_BITS, []).append(t & ((1 << _LINE_BITS) - 1))
        with self._marks_lock:
            with self._lock:
                for seg, lines in by_segment.items():
                    self._settled[seg] += len(lines)
            for seg, lines in by_segment.items():
                if seg in self._unmarked or not self.marks(seg).add(lines):
                    self._unmarked.setdefault(seg, []).extend(lines)

    def commit(self) -> None:
        """fsync what was appended since the last commit; rotate; delete settled closed segments."""
        with self._io_lock:
            with self._lock:
                fd, dirty, new_file = self._fd, self._dirty, self._new_file
                self._dirty = False
                self._new_file = False
                seg = self._current
                age = time.monotonic() - self._current_opened
                rotate = self._appended[seg] > 0 and (
                    self._current_bytes >= self._rotate_bytes or age >= self._rotate_s or self._stop.is_set()
                )
                if rotate:
                    self._closed.add(seg)
                    self._current = self._seq.next()
                    self._current_opened = time.monotonic()
                    self._current_bytes = 0
                    self._torn = False
                    self._fd = None
            try:
                if fd is not None:
                    if dirty:
                        os.fsync(fd)
                        self.commits += 1
                    if new_file:
                        fsync_dir(self.directory)
            except OSError:
                with self._lock:
                    self._dirty = self._dirty or dirty
                    self._new_file = self._new_file or new_file
                raise
            finally:
                if rotate and fd is not None:
                    os.close(fd)
            self._delete_settled()

    def _delete_settled(self) -> None:
        """Delete closed segments whose records are all settled, and write the marks the disk refused before.

        A segment stays in the bookkeeping until its file is gone: a delete the disk refuses (read-only, I/O error)
        is tried again at the next commit, so what the WAL holds on disk stays counted and bounded.
        """
        with self._marks_lock:
            for seg in list(self._unmarked):
                if self.marks(seg).add(self._unmarked[seg]):
                    del self._unmarked[seg]
            with self._lock:
                done = [s for s in self._closed if self._settled[s] >= self._appended[s]]
            for seg in done:
                try:
                    self.path(seg).unlink(missing_ok=True)
                    self.marks(seg).remove()
                except OSError as exc:
                    self.failed_deletes += 1
                    log.warning("could not delete settled WAL segment %s (%s); retrying at the next commit", seg, exc)
                    continue
                self._unmarked.pop(seg, None)
                with self._lock:
                    self._closed.discard(seg)
                    del self._appended[seg]
                    self._settled.pop(seg, None)

    def unsettled(self) -> int:
        with self._lock:
            return sum(self._appended[s] - self._settled[s] for s in self._appended)

    # -- group-commit thread ------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="wal-commit", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._commit_interval_s):
            try:
                self.commit()
            except OSError as exc:
                self.failed_commits += 1
                log.error("WAL commit failed (%s); retrying in %.1f s", exc, self._commit_interval_s)

    def close(self) -> None:
        """Final commit; settled segments are removed, unsettled ones stay for the next start."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.commit()  # rotates (closes) the current segment because _stop is set
        self._delete_settled()
