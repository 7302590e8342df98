"""Replay source: a JSONL file of envelopes or of raw X v2 stream messages, at a rate or flat out.

When looping, each pass sends the file again (the dedupe window is reset between passes).
A malformed line is logged (line number and reason, never its content at INFO), counted as dropped with
its reason, and skipped.

Resuming: the byte offset after the last line the pipeline took (accepted into the WAL, deduplicated or
dropped) is kept in STATE_DIR/replay-offset.json, rewritten in place after every line (one ``pwrite`` of a
fixed-size record: no rename, no fsync, no new disk space). A run that is stopped before the end of the
file (SIGTERM, kill -9) resumes there on the next start on the same file (same path, device and inode, not
shorter than the offset); after a kill -9 at most the one line being taken is read again (the
kernel keeps the write); after a power loss, what the page cache lost is read again (the WAL keeps what was
accepted either way). A run that reaches the end (without ``--loop``) or its ``--limit`` marks the offset
``finished`` and keeps it until everything it handed over is delivered (:meth:`ReplaySource.drained`, called by
the app once the WAL and the spool are empty); only then is the file removed, so the next run replays the file
from the start. Before, the offset went at the end of the file, before delivery: a SIGTERM while Firehose was
down, then a restart, sent the whole file twice (once from the spool, once read again).

Shifting to now (``shift_to_now``, REPLAY_SHIFT_TO_NOW; off by default): before each pass the file is read once
for its newest ``created_at``, and every tweet of the pass is dated by the same offset, so the newest is dated
when the pass starts and the gaps between tweets are kept (an old sample then lands in a dashboard's recent time
range). A ``created_at`` that is missing or not a timestamp is left as it is.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from ingester.envelope import MalformedMessage, from_replay_line, iso_utc
from ingester.sources import Sink

log = logging.getLogger(__name__)

REPLAY_OFFSET_FILE = "replay-offset.json"
#: replay-offset.json is this size (JSON padded with spaces), so each update overwrites the same blocks.
OFFSET_RECORD_BYTES = 1024
_STOPPED = -1
_LIMIT_REACHED = -2


@dataclass
class _Position:
    offset: int = 0
    lineno: int = 0
    #: the run reached the end (or its limit); the offset stays until what it read is delivered
    finished: bool = False


class ReplayOffset:
    """Where a replay of ``path`` stopped, in ``state_file`` (None: no resuming)."""

    def __init__(self, path: Path, state_file: Path | None) -> None:
        self.path = path
        self.state_file = state_file
        self._fd: int | None = None
        self._prefix = ""
        self._warned = False

    def _identity(self) -> dict[str, object]:
        st = self.path.stat()
        return {"file": str(self.path.resolve()), "dev": st.st_dev, "ino": st.st_ino}

    def load(self) -> _Position:
        if self.state_file is None:
            return _Position()
        try:
            saved = json.loads(self.state_file.read_text(encoding="utf-8"))
            identity = self._identity()
            size = self.path.stat().st_size
        except (OSError, ValueError):
            return _Position()
        if not isinstance(saved, dict) or any(saved.get(k) != v for k, v in identity.items()):
            return _Position()
        offset, lineno = saved.get("offset"), saved.get("line")
        if not isinstance(offset, int) or not isinstance(lineno, int) or not 0 <= offset <= size:
            return _Position()
        return _Position(offset, lineno, finished=saved.get("finished") is True)

    def save(self, position: _Position) -> None:
        if self.state_file is None:
            return
        try:
            if self._fd is None:
                self._fd = os.open(self.state_file, os.O_RDWR | os.O_CREAT, 0o600)
                self._prefix = json.dumps(self._identity())[:-1]
            done = ', "finished": true' if position.finished else ""
            record = f'{self._prefix}, "offset": {position.offset}, "line": {position.lineno}{done}}}'.encode()
            os.pwrite(self._fd, record.ljust(OFFSET_RECORD_BYTES) + b"\n", 0)
        except OSError as exc:  # a full disk before the file ever existed: the lines are only read again
            if not self._warned:
                self._warned = True
                log.warning("could not save the replay offset in %s (%s)", self.state_file, exc)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def clear(self) -> None:
        self.close()
        if self.state_file is not None:
            self.state_file.unlink(missing_ok=True)


def _created_at(envelope: dict[str, Any]) -> datetime | None:
    value = envelope["tweet"].get("created_at")
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def newest_created_at(path: Path) -> datetime | None:
    """The latest ``created_at`` among the file's valid lines (one read of the whole file), or None."""
    newest: datetime | None = None
    with path.open("rb") as handle:
        for raw in handle:
            try:
                moment = _created_at(from_replay_line(raw)) if raw.strip() else None
            except MalformedMessage:
                continue
            if moment is not None and (newest is None or moment > newest):
                newest = moment
    return newest


class ReplaySource:
    name = "replay"

    def __init__(
        self,
        path: Path,
        *,
        rate: float | None = None,
        loop: bool = False,
        offset_file: Path | None = None,
        shift_to_now: bool = False,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.path = path
        self.rate = rate
        self.loop = loop
        self.offset = ReplayOffset(path, offset_file)
        self.shift_to_now = shift_to_now
        self._clock = clock or (lambda: datetime.now(UTC))
        self._shift: timedelta | None = None
        self._next_at = 0.0

    def run(self, sink: Sink, stop: threading.Event) -> None:
        start = self.offset.load()
        if start.finished:
            log.info(
                "the replay of %s finished in an earlier run whose records were not all delivered yet (the spool "
                "delivers them); not reading it again until they are",
                self.path.name,
            )
            return
        if start.offset:
            log.info("resuming the replay of %s at line %d (byte %d)", self.path.name, start.lineno + 1, start.offset)
        try:
            start.finished = self._passes(sink, stop, start)
        finally:
            self.offset.save(start)
            self.offset.close()

    def drained(self) -> None:
        """Everything this run handed over is delivered: a finished replay forgets its offset (the next run
        starts over); an unfinished one keeps it (the next run resumes)."""
        if self.offset.load().finished:
            self.offset.clear()

    def _passes(self, sink: Sink, stop: threading.Event, position: _Position) -> bool:
        """Read pass after pass; True when the input is finished (its end without looping, or ``--limit``),
        False when stopped first."""
        self._next_at = time.monotonic()
        passes = 0
        while True:
            passes += 1
            if passes > 1:
                sink.reset_dedupe()  # a new pass repeats the file on purpose
                position.offset, position.lineno = 0, 0
            if self.shift_to_now:
                newest = newest_created_at(self.path)
                self._shift = None if newest is None else self._clock() - newest
            with self.path.open("rb") as handle:
                handle.seek(position.offset)
                lines_with_data = self._pass(handle, sink, stop, position)
            if lines_with_data == _STOPPED:
                return False
            if lines_with_data == _LIMIT_REACHED:
                return True
            if not self.loop or (lines_with_data == 0 and passes > 1) or self.path.stat().st_size == 0:
                log.info("replay of %s finished after %d pass(es)", self.path.name, passes)
                return True

    def _pass(self, handle: BinaryIO, sink: Sink, stop: threading.Event, position: _Position) -> int:
        """One pass from ``position``; returns the lines with data, or _STOPPED / _LIMIT_REACHED first."""
        interval = 1.0 / self.rate if self.rate else 0.0
        lines_with_data = 0
        for raw in handle:
            if stop.is_set():
                return _STOPPED
            if not sink.wants_more:
                return _LIMIT_REACHED
            line = raw.strip()
            if line:
                lines_with_data += 1
                if interval:
                    delay = self._next_at - time.monotonic()
                    if delay > 0 and stop.wait(delay):
                        return _STOPPED
                    self._next_at = max(self._next_at + interval, time.monotonic() - 1.0)
                if not self._take(line, position.lineno + 1, sink) and stop.is_set():
                    return _STOPPED  # not accepted because stopping: read it again next time
            position.offset += len(raw)
            position.lineno += 1
            self.offset.save(position)
        return lines_with_data

    def _take(self, line: bytes, lineno: int, sink: Sink) -> bool:
        try:
            envelope = from_replay_line(line)
        except MalformedMessage as exc:
            log.warning("%s line %d skipped: %s", self.path.name, lineno, exc.reason)
            log.debug("%s line %d detail: %s", self.path.name, lineno, exc.detail)
            sink.drop(exc.reason)
            return True
        moment = _created_at(envelope) if self._shift is not None else None
        if moment is not None and self._shift is not None:
            envelope["tweet"] = {**envelope["tweet"], "created_at": iso_utc(moment + self._shift)}
        return sink.accept(envelope)

    def close(self) -> None:
        """Nothing blocks outside ``stop.wait``."""
