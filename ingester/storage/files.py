"""File helpers of the durable storage: checked appends, fsync'ed atomic replacement, settle marks, segment names.

Failure policy: every write is checked, short writes included. :func:`append_checked` cuts a failed append back
(``ftruncate``) to where it started and raises :class:`StorageError`; :func:`atomic_write` either replaces the
target with the complete new content, fsync'ed (file and folder), or raises ``OSError`` and leaves the target as
it was. :meth:`Marks.add` never raises: it returns False for marks it could not write, which the WAL keeps and
writes again at its next commit; until then a lost mark only costs a repeat after a crash (never a loss).
"""

from __future__ import annotations

import errno
import logging
import os
import threading
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

WAL_SUFFIX = ".log"
SPOOL_SUFFIX = ".jsonl"
MARKS_SUFFIX = ".marks"
LEGACY_CURSOR_SUFFIX = ".cursor"  # spools written by 0.x kept a delivered prefix; still read on start
_SEQ_WIDTH = 16
#: Default SPOOL_MAX_BYTES: this share of the filesystem holding STATE_DIR (the rest is for the WAL, logs, the OS).
SPOOL_DEFAULT_SHARE = 0.5
#: ... or this share when STATE_DIR is a mount point of its own (the Terraform state volume): nothing else lives
#: there but the WAL segments, marks, the dead-letter file and status.json.
SPOOL_DEDICATED_SHARE = 0.9
#: A spool segment is at most this share of the cap, so a partly drained head segment holds little of it.


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


def error_reason(exc: OSError) -> str:
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
        failure = StorageError(error_reason(exc), f"{what}: {exc}")
        try:
            os.ftruncate(fd, start)
        except OSError as cut:
            failure.torn = True
            raise failure from cut
        raise failure from exc


def default_spool_max_bytes(state_dir: Path, share: float | None = None) -> int:
    """SPOOL_MAX_BYTES when unset: ``share`` of the size of the filesystem holding ``state_dir`` (os.statvfs); when
    ``share`` is None, 90 % if ``state_dir`` is a mount point (a volume of its own), else half (the rest is the
    OS's). Two services on one volume must pass shares that add up to at most 0.9 (SPOOL_SHARE)."""
    if share is None:
        share = SPOOL_DEDICATED_SHARE if os.path.ismount(state_dir) else SPOOL_DEFAULT_SHARE
    st = os.statvfs(state_dir)
    return int(st.f_blocks * st.f_frsize * share)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data``: write a temporary file beside it, fsync it, rename it over ``path``, fsync the
    folder. A reader sees the old content or the new one, never a part; after a power loss, one of the two.

    The one copy of "write tmp then replace" in the project (the status file, the X daily count, the Jetstream
    cursor, the replay offset, the demo's files). Raises ``OSError`` (the temporary file removed, ``path`` as it
    was) when the disk refuses; each caller decides whether that is fatal.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        try:
            write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def seq_of(path: Path) -> int | None:
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

    def add(self, indices: Iterable[int]) -> bool:
        """Append the ranges of ``indices``; False (logged, counted) when the disk refused them."""
        spans = ranges(indices)
        if not spans:
            return True
        line = (" ".join(f"{a}-{b}" for a, b in spans) + "\n").encode("ascii")
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        except OSError as exc:
            self._failed(exc)
            return False
        try:
            append_checked(fd, line, os.fstat(fd).st_size, sync=False, what=self.path.name)
        except StorageError as exc:
            self._failed(exc)
            return False
        finally:
            os.close(fd)
        return True

    def _failed(self, exc: Exception) -> None:
        self.failed_writes += 1
        log.warning(
            "could not write settle marks %s (%s): kept in memory, written at the next commit", self.path.name, exc
        )

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
                seq = seq_of(path)
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
