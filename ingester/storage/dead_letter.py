"""The dead-letter file: records never to be sent (over 1,000 KiB, rejected), each with its reason.

Failure policy: ``write`` raises :class:`~ingester.storage.files.StorageError` when the disk refuses, with no
partial entry left (a torn entry from an earlier failure is ended before the next one); the caller keeps the
record in the WAL.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from ingester.envelope import utc_now_iso
from ingester.storage.files import StorageError, append_checked, error_reason


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
                raise StorageError(error_reason(exc), f"dead-letter file: {exc}") from exc
            try:
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":  # a torn entry left by an earlier failure
                    line = b"\n" + line
                append_checked(fd, line, size, sync=True, what="dead-letter file")
            except OSError as exc:
                raise StorageError(error_reason(exc), f"dead-letter file: {exc}") from exc
            finally:
                os.close(fd)
        return len(line)
