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

Modules: :mod:`~ingester.storage.files` (checked appends, atomic replacement, marks, segment names),
:mod:`~ingester.storage.wal`, :mod:`~ingester.storage.spool`, :mod:`~ingester.storage.dead_letter`. Import from
here; the names below are the package's public interface.
"""

from __future__ import annotations

from ingester.storage.dead_letter import DeadLetter
from ingester.storage.files import (
    SPOOL_DEDICATED_SHARE,
    SPOOL_DEFAULT_SHARE,
    Marks,
    SegmentSequence,
    StorageError,
    append_checked,
    atomic_write,
    default_spool_max_bytes,
    ranges,
    write_all,
)
from ingester.storage.spool import SPOOL_SEGMENT_BYTES, Spool, SpoolBatch
from ingester.storage.wal import Wal, ticket

__all__ = [
    "SPOOL_DEDICATED_SHARE",
    "SPOOL_DEFAULT_SHARE",
    "SPOOL_SEGMENT_BYTES",
    "DeadLetter",
    "Marks",
    "SegmentSequence",
    "Spool",
    "SpoolBatch",
    "StorageError",
    "Wal",
    "append_checked",
    "atomic_write",
    "default_spool_max_bytes",
    "ranges",
    "ticket",
    "write_all",
]
