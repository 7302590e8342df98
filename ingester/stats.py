"""Counters shared by the source, pipeline and writer; the periodic JSON stats line and the state file.

The state file (``STATE_DIR/status.json``) is what ``python -m ingester status`` reads. It is replaced
atomically (write to a temp file, rename) so a reader never sees half of it.
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

STATUS_FILE = "status.json"


class Stats:
    """Thread-safe counters. ``snapshot()`` returns a JSON-able dict."""

    COUNTERS = (
        "read",  # messages taken from the source (tweets and malformed lines)
        "accepted",  # envelopes that entered the pipeline (WAL + queue)
        "duplicates",  # skipped because their tweet id was seen within the dedupe window
        "delivered",  # records Firehose accepted
        "retried",  # record resends after a partial failure or a failed call
        "api_calls",  # PutRecordBatch calls
        "failed_calls",  # calls that raised (throttling, outage, network)
        "spooled",  # records written to the disk spool
        "unspooled",  # spooled records delivered later
        "dead_lettered",  # records written to the dead-letter file (with reason)
        "reconnects",  # stream (re)connections after the first
    )

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = dict.fromkeys(self.COUNTERS, 0)
        self._dropped: Counter[str] = Counter()
        self._gauges: dict[str, Any] = {
            "stream_connected": False,
            "connected_since": None,
            "last_error": None,
            "last_error_at": None,
            "queue_depth": 0,
            "spool_records": 0,
            "spool_bytes": 0,
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
            "dropped": dropped,
            "dropped_total": sum(dropped.values()),
            "tweets_per_s": round(rate, 2),
            **gauges,
            "started_at": self.started_at,
            "uptime_s": round(now - self._started_mono, 1),
        }


def write_status(state_dir: Path, snapshot: dict[str, Any], extra: dict[str, Any]) -> None:
    """Atomically replace STATE_DIR/status.json."""
    payload = {**snapshot, **extra, "updated_at": utc_now_iso(), "pid": os.getpid()}
    path = state_dir / STATUS_FILE
    tmp = path.with_name(f".{STATUS_FILE}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(payload, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)


def read_status(state_dir: Path) -> dict[str, Any]:
    """Load STATE_DIR/status.json; FileNotFoundError when the daemon never ran with this STATE_DIR."""
    loaded = json.loads((state_dir / STATUS_FILE).read_text(encoding="utf-8"))
    if not isinstance(loaded, dict):
        raise ValueError(f"{state_dir / STATUS_FILE} does not hold a JSON object")
    return loaded
