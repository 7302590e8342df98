"""Durable storage in STATE_DIR: the write-ahead log, the disk spool and the dead-letter file.

All three hold records the same way: one envelope per line (envelopes are single-line JSON), so a WAL
segment left by a crash becomes a spool segment by renaming it (with its settle marks).

Layout::

    STATE_DIR/wal/<seq>.log          records accepted but not yet settled (delivered, spooled, dead-lettered)
    STATE_DIR/wal/<seq>.marks        which lines of that segment are settled (ranges, one batch a line)
    STATE_DIR/spool/<seq>.jsonl      records waiting for Firehose, drained oldest first
    STATE_DIR/spool/<seq>.marks      which lines of that segment are already delivered (ranges)
    STATE_DIR/dead-letter.jsonl      records never to be sent (over 1,000 KiB, rejected), each with its reason

Crash guarantee (documented in docs/operate.md, "Crash safety"): every accepted record is written to
the current WAL segment (a ``write`` system call, no user-space buffer) before it is queued, and the
segment is fsync'ed every WAL_COMMIT_MS (default 200 ms, group commit). A record leaves the WAL only
once it is delivered, fsync'ed into the spool, or fsync'ed into the dead-letter file. So:

* a process crash (kill -9, OOM kill, a bug) loses nothing that was accepted: the kernel has the bytes;
* a power loss or kernel crash loses at most the records accepted in the last WAL_COMMIT_MS that
  Firehose had not yet accepted.

Every write is checked, short writes included: a write that fails (ENOSPC, EIO) or stops short is cut
back (``ftruncate``) to where it started, so a torn line never counts, and :class:`StorageError` tells
the caller, which keeps the records (see docs/operate.md, "Disk full and the spool cap"). The spool is
capped at SPOOL_MAX_BYTES (default: half the filesystem holding STATE_DIR, 90 % of a volume of its own,
:func:`default_spool_max_bytes`).

Recovery is at-least-once, with few repeats: settle marks are written (not fsync'ed) per batch, so after a
kill -9 a leftover WAL segment joins the spool without the lines already settled; after a power loss the
unwritten marks only cost repeats. The spool's marks likewise remember every delivered line, not only a
delivered prefix.
"""

from __future__ import annotations

import errno
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
MARKS_SUFFIX = ".marks"
LEGACY_CURSOR_SUFFIX = ".cursor"  # spools written by 0.x kept a delivered prefix; still read on start
_SEQ_WIDTH = 16
#: A WAL ticket packs (segment, line) in one int: what the writer hands back to ``Wal.settle``.
_LINE_BITS = 32
#: Default SPOOL_MAX_BYTES: this share of the filesystem holding STATE_DIR (the rest is for the WAL, logs, the OS).
SPOOL_DEFAULT_SHARE = 0.5
#: ... or this share when STATE_DIR is a mount point of its own (the Terraform state volume): nothing else lives
#: there but the WAL segments, marks, the dead-letter file and status.json.
SPOOL_DEDICATED_SHARE = 0.9
#: A spool segment is at most this share of the cap, so a partly drained head segment holds little of it.
_SEGMENT_SHARE_OF_CAP = 8
#: Spool segment size: the writer drains the oldest segment from memory (read whole, one bytes object per line),
#: so this bounds what a drain holds. At 8 MiB each new head (a fresh 8 MiB read beside ~9 MB of lines) left the
#: heap fragmented: peak RSS in the 20x burst of scripts/dev/bench/ingester_bench.py grew to 95-97 MB (10x: 82-84);
#: at 2 MiB it is 80 (10x: 73-75), and 30x stays at 81.
SPOOL_SEGMENT_BYTES = 2 * 1024 * 1024


class StorageError(Exception):
    """A durable write did not happen (disk full, I/O error, short write, or the spool at its cap).

    Nothing of the write counts: what was partly written has been cut back. ``reason`` is short
    (``ENOSPC``, ``EIO``, ``spool_cap``) for the status file and the logs.
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        #: the partial write could not be cut back: the file ends with a torn line, append no more to it
        self.torn = False


def _reason(exc: OSError) -> str:
    return errno.errorcode.get(exc.errno or 0, "EIO") if exc.errno else "short_write"


def write_all(fd: int, data: bytes, end: bytes = b"") -> None:
    """Write ``data`` then ``end`` (one ``writev``, no copy) and, if that was short, the rest until every byte
    is written; OSError when the kernel refuses."""
    written = os.writev(fd, [data, end]) if end else os.write(fd, data)
    if written == len(data) + len(end):
        return
    if written <= 0:
        raise OSError(errno.ENOSPC, "write returned 0")
    view = memoryview(data + end)[written:]
    while view:
        written = os.write(fd, view)
        if written <= 0:
            raise OSError(errno.ENOSPC, "write returned 0")
        view = view[written:]


def append_checked(fd: int, data: bytes, start: int, *, sync: bool, what: str, end: bytes = b"") -> None:
    """Append ``data`` and ``end`` to the file at offset ``start`` (its size); fsync if ``sync``.

    On failure the file is cut back to ``start`` (no torn line stays) and StorageError is raised; if even
    that fails too, the error's ``torn`` is True and the caller must not append to this file as it is.
    """
    try:
        write_all(fd, data, end)
        if sync:
            os.fsync(fd)
    except OSError as exc:
        failure = StorageError(_reason(exc), f"{what}: {exc}")
        try:
            os.ftruncate(fd, start)
        except OSError as cut:
            failure.torn = True
            raise failure from cut
        raise failure from exc


def default_spool_max_bytes(state_dir: Path) -> int:
    """SPOOL_MAX_BYTES when unset: a share of the size of the filesystem holding ``state_dir`` (os.statvfs): 90 %
    when ``state_dir`` is a mount point (a volume of its own), else half (the rest is the OS's)."""
    share = SPOOL_DEDICATED_SHARE if os.path.ismount(state_dir) else SPOOL_DEFAULT_SHARE
    st = os.statvfs(state_dir)
    return int(st.f_blocks * st.f_frsize * share)


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


def ranges(indices: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted half-open ranges covering ``indices`` ([0, 1, 2, 5] -> [(0, 3), (5, 6)])."""
    out: list[tuple[int, int]] = []
    for i in sorted(set(indices)):
        if out and out[-1][1] == i:
            out[-1] = (out[-1][0], i + 1)
        else:
            out.append((i, i + 1))
    return out


class Marks:
    """Lines of a segment that are done (settled in the WAL, delivered from the spool), in a side file.

    Append-only, one batch per line (``start end`` ranges, half open). Written through but not fsync'ed:
    a process crash keeps them; a lost or failed mark only means the line is sent again (never a loss).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.failed_writes = 0

    def add(self, indices: Iterable[int]) -> None:
        spans = ranges(indices)
        if not spans:
            return
        line = (" ".join(f"{a}-{b}" for a, b in spans) + "\n").encode("ascii")
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        except OSError as exc:
            self._failed(exc)
            return
        try:
            append_checked(fd, line, os.fstat(fd).st_size, sync=False, what=self.path.name)
        except StorageError as exc:
            self._failed(exc)
        finally:
            os.close(fd)

    def _failed(self, exc: Exception) -> None:
        self.failed_writes += 1
        log.warning("could not write settle marks %s (%s): those records may be sent twice", self.path.name, exc)

    def load(self) -> set[int]:
        try:
            text = self.path.read_text(encoding="ascii", errors="replace")
        except FileNotFoundError:
            return set()
        done: set[int] = set()
        for line in text.split("\n")[:-1]:  # the last piece has no newline: torn or empty, ignored
            for span in line.split():
                start, _, end = span.partition("-")
                if start.isdigit() and end.isdigit():
                    done.update(range(int(start), int(end)))
        return done

    def move_to(self, target: Path) -> None:
        if self.path.exists():
            self.path.replace(target)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


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

    def path(self, seq: int) -> Path:
        return self.directory / segment_name(seq, WAL_SUFFIX)

    def marks(self, seq: int) -> Marks:
        return Marks(self.directory / segment_name(seq, MARKS_SUFFIX))

    def leftover_segments(self) -> list[Path]:
        return sorted(p for p in self.directory.glob(f"*{WAL_SUFFIX}") if _seq_of(p) is not None)

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
                raise StorageError(_reason(exc), f"write-ahead log: {exc}") from exc
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
                self.marks(seg).add(lines)

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
                        _fsync_dir(self.directory)
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
        with self._marks_lock:
            with self._lock:
                done = [s for s in self._closed if self._settled[s] >= self._appended[s]]
                for seg in done:
                    self._closed.discard(seg)
                    del self._appended[seg]
                    self._settled.pop(seg, None)
            for seg in done:
                self.path(seg).unlink(missing_ok=True)
                self.marks(seg).remove()

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
        self.torn_lines = 0
        self.pending_records = 0
        self.pending_bytes = 0  # bytes of spool segments on disk (what SPOOL_MAX_BYTES caps)
        for path in self._segments():
            seq = _seq_of(path)
            assert seq is not None
            lines, _ = _read_segment(path)
            done = self._done(seq)
            self.pending_records += sum(1 for i, line in enumerate(lines) if line and i not in done)
            self.pending_bytes += path.stat().st_size

    def _segments(self) -> list[Path]:
        return sorted(p for p in self.directory.glob(f"*{SPOOL_SUFFIX}") if _seq_of(p) is not None)

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
        seq = _seq_of(wal_segment)
        if seq is None:
            return
        target = self.path(seq)
        Marks(wal_segment.with_suffix(MARKS_SUFFIX)).move_to(self.marks(seq).path)
        wal_segment.replace(target)
        _fsync_dir(self.directory)
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
                raise StorageError(_reason(exc), f"spool: {exc}") from exc
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
            _fsync_dir(self.directory)
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
            seq = _seq_of(path)
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
        path.unlink(missing_ok=True)
        self.marks(seq).remove()
        self._legacy_cursor_path(seq).unlink(missing_ok=True)
        self.pending_bytes = max(0, self.pending_bytes - size)

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

    def write(self, record: bytes, reason: str, *, tweet_id: str | None = None, detail: str = "") -> int:
        """Append one entry durably; returns its size. StorageError (no partial entry stays) when the disk refuses."""
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
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
            except OSError as exc:
                raise StorageError(_reason(exc), f"dead-letter file: {exc}") from exc
            try:
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":  # a torn entry left by an earlier failure
                    line = b"\n" + line
                append_checked(fd, line, size, sync=True, what="dead-letter file")
            except OSError as exc:
                raise StorageError(_reason(exc), f"dead-letter file: {exc}") from exc
            finally:
                os.close(fd)
        return len(line)
