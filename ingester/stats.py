"""Counters shared by the source, pipeline and writer; the periodic JSON stats line and the state file.

The state file (``STATE_DIR/status.json``) is what ``python -m ingester status`` reads. It is replaced
atomically (write to a temp file, rename) so a reader never sees half of it. It is padded to
STATUS_RESERVE_BYTES, so when the disk is full (the temp file cannot be written) the new state is written
in place over the old file's blocks, which needs no free space; a reader that catches that write half done
reads again.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from ingester.envelope import utc_now_iso
from ingester.storage.files import atomic_write

STATUS_FILE = "status.json"
#: status.json is padded with spaces to at least this size: room for an in-place update on a full disk.
STATUS_RESERVE_BYTES = 16 * 1024


class Stats:
    """Thread-safe counters. ``snapshot()`` returns a JSON-able dict."""

    COUNTERS = (
        "read",  # messages taken from the source (tweets and malformed lines)
        "accepted",  # envelopes that entered the pipeline (WAL + queue)
        "filtered_out",  # events of a locally filtered source (Bluesky) that are no tracked new post: not read
        "duplicates",  # skipped because their tweet id was seen within the dedupe window
        "delivered",  # records Firehose accepted
        "retried",  # record resends after a partial failure or a failed call
        "api_calls",  # PutRecordBatch calls
        "failed_calls",  # calls that raised (throttling, outage, network)
        "spooled",  # records written to the disk spool
        "unspooled",  # spooled records delivered later
        "dead_lettered",  # records written to the dead-letter file (with reason)
        "reconnects",  # stream (re)connections after the first
        "unproductive_connections",  # stream connections that ended without a new event (a failure: backoff, rotate)
        "gaps",  # stretches of the stream the source could not read (retention exceeded, CursorTooOld, a skipped frame)
        "gap_seconds",  # their total length in the source's time, whole seconds rounded up
        "storage_errors",  # durable writes (WAL, spool, dead letters) that failed: disk full, I/O error, spool cap
        "deletions_seen",  # deletion events of the source (post deletes, removed accounts), stored by us or not
        "deletions_recorded",  # of those, the ones of a post or author we stored: tombstones written
        "deleted_before_send",  # records of a deleted post or author dropped from the WAL, spool or a batch unsent
        "deletions_applied",  # tombstones a deletion target took for the first time (one per target)
        "deletions_reapplied",  # tombstones applied again (re-apply window, sweeps): copies that came back
        "deletions_removed",  # documents the targets reported removed
        "deletion_failures",  # delete calls a target refused or could not answer (the ids stay pending)
        "x_compliance_failures",  # X compliance jobs that failed (HTTP error, failed or expired job, timeout)
    )

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = dict.fromkeys(self.COUNTERS, 0)
        self._dropped: Counter[str] = Counter()
        self._gauges: dict[str, Any] = {
            "stream_connected": False,  # events are arriving (not merely a socket open)
            "last_event_at": None,
            "last_gap": None,  # {"start", "end", "seconds", "reason"} of the last gap
            "connected_since": None,
            "last_error": None,
            "last_error_at": None,
            "queue_depth": 0,
            "spool_records": 0,
            "spool_bytes": 0,
            "spool_max_bytes": 0,
            "spool_held_records": 0,  # records the spool refused (full), held in memory and still in the WAL
            "source_paused": None,  # why the source is paused (STATE_DIR refuses writes), or None
            "firehose_healthy": True,
            "paused_until": None,
        }
        self.started_at = utc_now_iso()
        self._started_mono = time.monotonic()
        self._rate_mark: tuple[float, int] = (self._started_mono, 0)

    def incr(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counts[name] += n

    def drop(self, reason: str, n: int = 1) -> None:
        with self._lock:
            self._dropped[reason] += n

    def set(self, name: str, value: Any) -> None:
        with self._lock:
            self._gauges[name] = value

    def error(self, message: str) -> None:
        with self._lock:
            self._gauges["last_error"] = message
            self._gauges["last_error_at"] = utc_now_iso()

    def get(self, name: str) -> int:
        with self._lock:
            return self._counts[name]

    def dropped(self) -> dict[str, int]:
        with self._lock:
            return dict(self._dropped)

    def snapshot(self) -> dict[str, Any]:
        now = time.monotonic()
        with self._lock:
            counts = dict(self._counts)
            dropped = dict(self._dropped)
            gauges = dict(self._gauges)
            mark_time, mark_read = self._rate_mark
            elapsed = now - mark_time
            rate = (counts["read"] - mark_read) / elapsed if elapsed > 0 else 0.0
            self._rate_mark = (now, counts["read"])
        return {
            **counts,
            "storage_state": storage_state(gauges),
            "dropped": dropped,
            "dropped_total": sum(dropped.values()),
            "tweets_per_s": round(rate, 2),
            **gauges,
            "started_at": self.started_at,
            "uptime_s": round(now - self._started_mono, 1),
        }


def storage_state(gauges: dict[str, Any]) -> str:
    """``ok``, ``paused`` (the source waits: STATE_DIR refuses writes) or ``spool_full`` (the spool refuses
    batches: they are held in memory, still in the WAL, and no new records are taken)."""
    if gauges.get("source_paused"):
        return "paused"
    if gauges.get("spool_held_records"):
        return "spool_full"
    return "ok"


def write_status(state_dir: Path, snapshot: dict[str, Any], extra: dict[str, Any]) -> None:
    """Atomically replace STATE_DIR/status.json; on a full disk, overwrite it in place (no new blocks)."""
    payload = {**snapshot, **extra, "updated_at": utc_now_iso(), "pid": os.getpid()}
    body = json.dumps(payload, sort_keys=True).encode("utf-8")
    data = body + b" " * max(0, STATUS_RESERVE_BYTES - len(body) - 1) + b"\n"
    path = state_dir / STATUS_FILE
    try:
        atomic_write(path, data, mode=0o644)
    except OSError:
        _overwrite_in_place(path, data)


def _overwrite_in_place(path: Path, data: bytes) -> None:
    """Write ``data`` over the existing file, padded to its size: uses the blocks it already has."""
    fd = os.open(path, os.O_WRONLY)
    try:
        size = os.fstat(fd).st_size
        if len(data) > size:
            raise OSError(28, f"no space to grow {path.name} ({len(data)} > {size} bytes)")
        data = data[:-1] + b" " * (size - len(data)) + b"\n"
        view = memoryview(data)
        offset = 0
        while offset < len(view):
            offset += os.pwrite(fd, view[offset:], offset)
    finally:
        os.close(fd)


def read_status(state_dir: Path, *, attempts: int = 3) -> dict[str, Any]:
    """Load STATE_DIR/status.json; FileNotFoundError when the daemon never ran with this STATE_DIR."""
    text = (state_dir / STATUS_FILE).read_text(encoding="utf-8")
    for _ in range(attempts - 1):  # an in-place update (full disk) may be caught half written
        try:
            json.loads(text)
            break
        except ValueError:
            time.sleep(0.05)
            text = (state_dir / STATUS_FILE).read_text(encoding="utf-8")
    loaded = json.loads(text)
    if not isinstance(loaded, dict):
        raise ValueError(f"{state_dir / STATUS_FILE} does not hold a JSON object")
    return loaded
