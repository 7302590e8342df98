"""The disk spool: records waiting for Firehose, in segment files written with fsync, drained oldest first.

Failure policy: ``write`` raises :class:`~ingester.storage.files.StorageError` when the spool is at its cap or the
disk refuses (none of the records then counts as spooled, the file holds none of them); the writer keeps them and
pauses the source. A segment that ends with a torn line (a crash mid-write) is read without that line.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ingester.firehose.batching import BatchLimits
from ingester.storage.files import (
    LEGACY_CURSOR_SUFFIX,
    MARKS_SUFFIX,
    SPOOL_SUFFIX,
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

_SEGMENT_SHARE_OF_CAP = 8
#: Spool segment size: the writer drains the oldest segment from memory (read whole, one bytes object per line),
#: so this bounds what a drain holds. At 8 MiB each new head (a fresh 8 MiB read beside ~9 MB of lines) left the
#: heap fragmented: peak RSS in the 20x burst of scripts/dev/bench/ingester_bench.py grew to 95-97 MB (10x: 82-84);
#: at 2 MiB it is 80 (10x: 73-75), and 30x stays at 81.
SPOOL_SEGMENT_BYTES = 2 * 1024 * 1024


@dataclass
class _Head:
    seq: int
    records: list[bytes]
    done: list[bool]
    cursor: int


@dataclass
class SpoolBatch:
    seq: int
    indices: list[int]
    records: list[bytes]


def _read_segment(path: Path) -> tuple[list[bytes], bool]:
    """The complete lines of a segment and whether it ended with a torn (unterminated) line."""
    lines = path.read_bytes().split(b"\n")
    tail = lines.pop()  # b"" when the file ends with a newline
    return lines, bool(tail)


class Spool:
    """Segment files of records waiting for Firehose; written with fsync, drained oldest first, capped at
    ``max_bytes`` on disk (None: no cap)."""

    def __init__(
        self,
        directory: Path,
        sequence: SegmentSequence,
        *,
        max_bytes: int | None = None,
        max_segment_bytes: int = SPOOL_SEGMENT_BYTES,
    ) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._seq = sequence
        self.max_bytes = max_bytes
        if max_bytes is not None:
            max_segment_bytes = min(max_segment_bytes, max(64 * 1024, max_bytes // _SEGMENT_SHARE_OF_CAP))
        self._max_segment_bytes = max_segment_bytes
        self._lock = threading.Lock()
        self._write: tuple[int, int, int] | None = None  # (segment, fd, bytes)
        self._head: _Head | None = None
        #: delivered segments whose delete the disk refused (read-only): deleted at the next drain, never resent
        self._undeleted: set[int] = set()
        self.torn_lines = 0
        self.pending_records = 0
        self.pending_bytes = 0  # bytes of spool segments on disk (what SPOOL_MAX_BYTES caps)
        for path in self._segments():
            seq = seq_of(path)
            assert seq is not None
            lines, _ = _read_segment(path)
            done = self._done(seq)
            self.pending_records += sum(1 for i, line in enumerate(lines) if line and i not in done)
            self.pending_bytes += path.stat().st_size

    def _segments(self) -> list[Path]:
        """The segments still to drain, oldest first: delivered ones the disk would not let go are retried, not
        listed."""
        for seq in sorted(self._undeleted):
            self._remove_locked(seq)
        return sorted(
            p
            for p in self.directory.glob(f"*{SPOOL_SUFFIX}")
            if seq_of(p) is not None and seq_of(p) not in self._undeleted
        )

    def path(self, seq: int) -> Path:
        return self.directory / segment_name(seq, SPOOL_SUFFIX)

    def marks(self, seq: int) -> Marks:
        return Marks(self.directory / segment_name(seq, MARKS_SUFFIX))

    def _legacy_cursor_path(self, seq: int) -> Path:
        return self.directory / segment_name(seq, LEGACY_CURSOR_SUFFIX)

    def _done(self, seq: int) -> set[int]:
        """Delivered lines: the marks, plus the delivered prefix a spool from before the marks recorded."""
        done = self.marks(seq).load()
        try:
            prefix = int(self._legacy_cursor_path(seq).read_text(encoding="ascii").strip() or 0)
        except (FileNotFoundError, ValueError):
            prefix = 0
        done.update(range(prefix))
        return done

    def adopt(self, wal_segment: Path) -> None:
        """Move a WAL segment left by a crash into the spool, without its settled lines (same sequence number
        keeps the order)."""
        seq = seq_of(wal_segment)
        if seq is None:
            return
        target = self.path(seq)
        Marks(wal_segment.with_suffix(MARKS_SUFFIX)).move_to(self.marks(seq).path)
        wal_segment.replace(target)
        fsync_dir(self.directory)
        lines, _ = _read_segment(target)
        done = self._done(seq)
        count = sum(1 for i, line in enumerate(lines) if line and i not in done)
        with self._lock:
            self.pending_records += count
            self.pending_bytes += target.stat().st_size
        log.warning(
            "recovered %d unsettled record(s) of %d from write-ahead log segment %s into the spool",
            count,
            len(lines),
            wal_segment.name,
        )

    def write(self, records: list[bytes]) -> None:
        """Append records durably (fsync before returning).

        Raises StorageError when the spool is at its cap or the write fails; then none of the records counts
        as spooled and the file holds none of them.
        """
        if not records:
            return
        payload = b"\n".join(records) + b"\n"
        with self._lock:
            if self.max_bytes is not None and self.pending_bytes and self.pending_bytes + len(payload) > self.max_bytes:
                raise StorageError(
                    "spool_cap", f"{self.pending_bytes} + {len(payload)} bytes > SPOOL_MAX_BYTES {self.max_bytes}"
                )
            try:
                if self._write is None or self._write[2] >= self._max_segment_bytes:
                    self._rotate_locked()
            except OSError as exc:
                raise StorageError(error_reason(exc), f"spool: {exc}") from exc
            assert self._write is not None
            seq, fd, size = self._write
            try:
                append_checked(fd, payload, size, sync=True, what="spool")
            except StorageError as exc:
                if exc.torn:  # the segment ends with a partial line (skipped when read): write a new one
                    self.pending_bytes += os.fstat(fd).st_size - size
                    os.close(fd)
                    self._write = None
                raise
            self._write = (seq, fd, size + len(payload))
            self.pending_records += len(records)
            self.pending_bytes += len(payload)

    def _rotate_locked(self) -> None:
        if self._write is not None:
            os.close(self._write[1])
            self._write = None
        seq = self._seq.next()
        fd = os.open(self.path(seq), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            fsync_dir(self.directory)
        except OSError:
            os.close(fd)
            raise
        self._write = (seq, fd, 0)

    def has_pending(self) -> bool:
        with self._lock:
            return self.pending_records > 0

    def next_batch(self, max_records: int, max_bytes: int) -> SpoolBatch | None:
        """The oldest undelivered records, within the batch limits (None when the spool is empty)."""
        with self._lock:
            head = self._load_head_locked()
            if head is None:
                return None
            limits = BatchLimits(max_records, max_bytes)
            indices: list[int] = []
            records: list[bytes] = []
            size = 0
            for i in range(head.cursor, len(head.records)):
                if head.done[i]:
                    continue
                rec = head.records[i]
                if records and not limits.fits(len(records), size, len(rec)):
                    break
                indices.append(i)
                records.append(rec)
                size += len(rec)
            return SpoolBatch(head.seq, indices, records)

    def _load_head_locked(self) -> _Head | None:
        while True:
            if self._head is not None:
                return self._head
            segments = self._segments()
            if not segments:
                self.pending_records = 0
                self.pending_bytes = 0
                return None
            path = segments[0]
            seq = seq_of(path)
            assert seq is not None
            if self._write is not None and self._write[0] == seq:
                # Never read the segment being written: close it, new writes go to a new segment.
                os.close(self._write[1])
                self._write = None
            records, torn = _read_segment(path)
            if torn:
                self.torn_lines += 1
                log.warning("spool segment %s ends with a torn line (crash mid-write); skipping it", path.name)
            marked = self._done(seq)
            done = [not line or i in marked for i, line in enumerate(records)]
            cursor = next((i for i, d in enumerate(done) if not d), len(records))
            if cursor >= len(records):
                self._remove_locked(seq)
                continue
            self._head = _Head(seq, records, done, cursor)
            return self._head

    def ack(self, batch: SpoolBatch, delivered: Iterable[int]) -> None:
        """Mark records of a batch (by position in ``batch.records``) delivered, in memory and in the marks."""
        with self._lock:
            head = self._head
            if head is None or head.seq != batch.seq:
                return
            newly: list[int] = []
            for pos in delivered:
                i = batch.indices[pos]
                if not head.done[i]:
                    head.done[i] = True
                    newly.append(i)
            self.pending_records = max(0, self.pending_records - len(newly))
            while head.cursor < len(head.records) and head.done[head.cursor]:
                head.cursor += 1
            if head.cursor >= len(head.records):
                self._remove_locked(head.seq)
                self._head = None
            elif newly:
                self.marks(head.seq).add(newly)

    def _remove_locked(self, seq: int) -> None:
        path = self.path(seq)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            size = 0
        try:
            path.unlink(missing_ok=True)
            self.marks(seq).remove()
            self._legacy_cursor_path(seq).unlink(missing_ok=True)
        except OSError as exc:  # delivered: keep it out of the drain, delete it when the disk lets us
            if seq not in self._undeleted:
                log.warning("could not delete delivered spool segment %s (%s); retrying", path.name, exc)
            self._undeleted.add(seq)
            return
        self._undeleted.discard(seq)
        self.pending_bytes = max(0, self.pending_bytes - size)

    def close(self) -> None:
        with self._lock:
            if self._write is not None:
                os.close(self._write[1])
                self._write = None
