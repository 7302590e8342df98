"""Durable storage in STATE_DIR: the write-ahead log, the disk spool and the dead-letter file.

All three hold records the same way: one envelope per line (envelopes are single-line JSON), so a WAL
segment left by a crash becomes a spool segment by renaming it.

Layout::

    STATE_DIR/wal/<seq>.log          records accepted but not yet settled (delivered, spooled, dead-lettered)
    STATE_DIR/spool/<seq>.jsonl      records waiting for Firehose, drained oldest first
    STATE_DIR/spool/<seq>.cursor     how many leading lines of that segment are already delivered
    STATE_DIR/dead-letter.jsonl      records never to be sent (over 1,000 KiB, rejected), each with its reason

Crash guarantee (documented in docs/operate.md, "Crash safety"): every accepted record is written to
the current WAL segment (a ``write`` system call, no user-space buffer) before it is queued, and the
segment is fsync'ed every WAL_COMMIT_MS (default 200 ms, group commit). A record leaves the WAL only
once it is delivered, fsync'ed into the spool, or fsync'ed into the dead-letter file. So:

* a process crash (kill -9, OOM kill, a bug) loses nothing that was accepted: the kernel has the bytes;
* a power loss or kernel crash loses at most the records accepted in the last WAL_COMMIT_MS that
  Firehose had not yet accepted.

Recovery is at-least-once: on start-up, leftover WAL segments join the spool, so records of a segment
that were delivered just before the crash are delivered again (bounded by one segment, 2 s or 8 MiB).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ingester.envelope import utc_now_iso
from ingester.firehose.batching import BatchLimits

log = logging.getLogger(__name__)

WAL_SUFFIX = ".log"
SPOOL_SUFFIX = ".jsonl"
CURSOR_SUFFIX = ".cursor"
_SEQ_WIDTH = 16


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _seq_of(path: Path) -> int | None:
    try:
        return int(path.name.split(".", 1)[0])
    except ValueError:
        return None


class SegmentSequence:
    """Monotonic segment numbers shared by the WAL and the spool, so their files sort in arrival order."""

    def __init__(self, *dirs: Path) -> None:
        highest = 0
        for directory in dirs:
            for path in directory.glob("*"):
                seq = _seq_of(path)
                if seq is not None:
                    highest = max(highest, seq)
        self._next = highest + 1
        self._lock = threading.Lock()

    def next(self) -> int:
        with self._lock:
            value = self._next
            self._next += 1
            return value


def segment_name(seq: int, suffix: str) -> str:
    return f"{seq:0{_SEQ_WIDTH}d}{suffix}"


class Wal:
    """Write-ahead log: ``append`` writes through to the segment file (no user-space buffer, so a killed
    process loses nothing); ``commit`` fsyncs every WAL_COMMIT_MS (group commit, so a power loss loses at
    most that window), rotates segments and deletes the ones whose records are all settled."""

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
        self._seq = sequence
        self._commit_interval_s = commit_interval_s
        self._rotate_bytes = rotate_bytes
        self._rotate_s = rotate_s
        self._lock = threading.Lock()
        self._io_lock = threading.Lock()
        self._current = sequence.next()
        self._current_opened = time.monotonic()
        self._current_bytes = 0
        self._fd: int | None = None
        self._dirty = False
        self._new_file = False
        self._appended: Counter[int] = Counter()
        self._settled: Counter[int] = Counter()
        self._closed: set[int] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_error_log = 0.0
        self.commits = 0
        self.failed_appends = 0

    def path(self, seq: int) -> Path:
        return self.directory / segment_name(seq, WAL_SUFFIX)

    def leftover_segments(self) -> list[Path]:
        return sorted(p for p in self.directory.glob(f"*{WAL_SUFFIX}") if _seq_of(p) is not None)

    def append(self, data: bytes) -> int:
        """Write one record (no trailing newline) to the current segment; returns the segment for ``settle``.

        Returns -1 if the write failed (disk full, read-only STATE_DIR): the record still goes to Firehose,
        only without crash protection, and the failure is logged.
        """
        with self._lock:
            seg = self._current
            try:
                if self._fd is None:
                    self._fd = os.open(self.path(seg), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                    self._new_file = True
                written = os.writev(self._fd, [data, b"\n"])
                if written != len(data) + 1:
                    raise OSError(f"short write ({written} of {len(data) + 1} bytes)")
            except OSError as exc:
                self.failed_appends += 1
                now = time.monotonic()
                if now - self._last_error_log > 10:
                    self._last_error_log = now
                    log.error(
                        "cannot write the write-ahead log in %s (%s): records are not crash-safe", self.directory, exc
                    )
                return -1
            self._appended[seg] += 1
            self._current_bytes += len(data) + 1
            self._dirty = True
            return seg

    def settle(self, segments: Iterable[int]) -> None:
        """Records of these segments are delivered / spooled / dead-lettered: the WAL no longer needs them."""
        with self._lock:
            for seg in segments:
                if seg >= 0:
                    self._settled[seg] += 1

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
                    self._fd = None
            if fd is not None:
                if dirty:
                    os.fsync(fd)
                    self.commits += 1
                if new_file:
                    _fsync_dir(self.directory)
                if rotate:
                    os.close(fd)
            self._delete_settled()

    def _delete_settled(self) -> None:
        with self._lock:
            done = [s for s in self._closed if self._settled[s] >= self._appended[s]]
            for seg in done:
                self._closed.discard(seg)
                del self._appended[seg]
                self._settled.pop(seg, None)
        for seg in done:
            self.path(seg).unlink(missing_ok=True)

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
            except OSError:
                log.exception("WAL commit failed (disk full or read-only STATE_DIR?); retrying")

    def close(self) -> None:
        """Final commit; settled segments are removed, unsettled ones stay for the next start."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.commit()  # rotates (closes) the current segment because _stop is set
        self._delete_settled()


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


class Spool:
    """Segment files of records waiting for Firehose; written with fsync, drained oldest first."""

    def __init__(self, directory: Path, sequence: SegmentSequence, *, max_segment_bytes: int = 8 * 1024 * 1024):
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._seq = sequence
        self._max_segment_bytes = max_segment_bytes
        self._lock = threading.Lock()
        self._write: tuple[int, int, int] | None = None  # (segment, fd, bytes)
        self._head: _Head | None = None
        self.torn_lines = 0
        self.pending_records = 0
        self.pending_bytes = 0
        for path in self._segments():
            count, size = self._count(path)
            self.pending_records += count - self._read_cursor(path)
            self.pending_bytes += size

    def _segments(self) -> list[Path]:
        return sorted(p for p in self.directory.glob(f"*{SPOOL_SUFFIX}") if _seq_of(p) is not None)

    def path(self, seq: int) -> Path:
        return self.directory / segment_name(seq, SPOOL_SUFFIX)

    def _cursor_path(self, seq: int) -> Path:
        return self.directory / segment_name(seq, CURSOR_SUFFIX)

    @staticmethod
    def _count(path: Path) -> tuple[int, int]:
        data = path.read_bytes()
        return data.count(b"\n"), len(data)

    def _read_cursor(self, path: Path) -> int:
        seq = _seq_of(path)
        if seq is None:
            return 0
        try:
            return int(self._cursor_path(seq).read_text(encoding="ascii").strip() or 0)
        except (FileNotFoundError, ValueError):
            return 0

    def adopt(self, wal_segment: Path) -> None:
        """Move a WAL segment left by a crash into the spool (same sequence number keeps the order)."""
        seq = _seq_of(wal_segment)
        if seq is None:
            return
        target = self.path(seq)
        wal_segment.replace(target)
        _fsync_dir(self.directory)
        count, size = self._count(target)
        with self._lock:
            self.pending_records += count
            self.pending_bytes += size
        log.warning("recovered %d record(s) from write-ahead log segment %s into the spool", count, wal_segment.name)

    def write(self, records: list[bytes]) -> None:
        """Append records durably (fsync before returning)."""
        if not records:
            return
        payload = b"\n".join(records) + b"\n"
        with self._lock:
            if self._write is None or self._write[2] >= self._max_segment_bytes:
                self._rotate_locked()
            assert self._write is not None
            seq, fd, size = self._write
            os.write(fd, payload)
            os.fsync(fd)
            self._write = (seq, fd, size + len(payload))
            self.pending_records += len(records)
            self.pending_bytes += len(payload)

    def _rotate_locked(self) -> None:
        if self._write is not None:
            os.close(self._write[1])
        seq = self._seq.next()
        fd = os.open(self.path(seq), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        _fsync_dir(self.directory)
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
            seq = _seq_of(path)
            assert seq is not None
            if self._write is not None and self._write[0] == seq:
                # Never read the segment being written: close it, new writes go to a new segment.
                os.close(self._write[1])
                self._write = None
            data = path.read_bytes()
            lines = data.split(b"\n")
            tail = lines.pop()  # b"" when the file ends with a newline
            if tail:
                self.torn_lines += 1
                log.warning("spool segment %s ends with a torn line (crash mid-write); skipping it", path.name)
            records = [line for line in lines if line]
            cursor = min(self._read_cursor(path), len(records))
            if cursor >= len(records):
                self._remove_locked(seq)
                continue
            self._head = _Head(seq, records, [i < cursor for i in range(len(records))], cursor)
            return self._head

    def ack(self, batch: SpoolBatch, delivered: Iterable[int]) -> None:
        """Mark records of a batch (by position in ``batch.records``) delivered; advance the cursor."""
        with self._lock:
            head = self._head
            if head is None or head.seq != batch.seq:
                return
            n = 0
            freed = 0
            for pos in delivered:
                i = batch.indices[pos]
                if not head.done[i]:
                    head.done[i] = True
                    n += 1
                    freed += len(head.records[i]) + 1
            self.pending_records = max(0, self.pending_records - n)
            self.pending_bytes = max(0, self.pending_bytes - freed)
            while head.cursor < len(head.records) and head.done[head.cursor]:
                head.cursor += 1
            if head.cursor >= len(head.records):
                self._remove_locked(head.seq)
                self._head = None
            elif n:
                tmp = self._cursor_path(head.seq).with_suffix(".tmp")
                tmp.write_text(str(head.cursor), encoding="ascii")
                tmp.replace(self._cursor_path(head.seq))

    def _remove_locked(self, seq: int) -> None:
        self.path(seq).unlink(missing_ok=True)
        self._cursor_path(seq).unlink(missing_ok=True)

    def close(self) -> None:
        with self._lock:
            if self._write is not None:
                os.close(self._write[1])
                self._write = None


class DeadLetter:
    """Append-only JSONL of records that must never be sent, each with its reason (fsync per write)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def write(self, record: bytes, reason: str, *, tweet_id: str | None = None, detail: str = "") -> None:
        entry = {
            "dead_lettered_at": utc_now_iso(),
            "reason": reason,
            "detail": detail,
            "tweet_id": tweet_id,
            "size_bytes": len(record),
            "record": record.decode("utf-8", errors="replace"),
        }
        line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
