"""Replay source: a JSONL file of envelopes or of raw X v2 stream messages, at a rate or flat out.

When looping, each pass sends the file again (the dedupe window is reset between passes).
A malformed line is logged (line number and reason, never its content at INFO), counted as dropped with
its reason, and skipped.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from ingester.envelope import MalformedMessage, from_replay_line
from ingester.sources import Sink

log = logging.getLogger(__name__)


class ReplaySource:
    name = "replay"

    def __init__(self, path: Path, *, rate: float | None = None, loop: bool = False) -> None:
        self.path = path
        self.rate = rate
        self.loop = loop

    def run(self, sink: Sink, stop: threading.Event) -> None:
        interval = 1.0 / self.rate if self.rate else 0.0
        next_at = time.monotonic()
        passes = 0
        while True:
            passes += 1
            if passes > 1:
                sink.reset_dedupe()  # a new pass repeats the file on purpose
            lines_with_data = 0
            with self.path.open("rb") as handle:
                for lineno, raw in enumerate(handle, start=1):
                    if stop.is_set() or not sink.wants_more:
                        return
                    line = raw.strip()
                    if not line:
                        continue
                    lines_with_data += 1
                    if interval:
                        delay = next_at - time.monotonic()
                        if delay > 0 and stop.wait(delay):
                            return
                        next_at = max(next_at + interval, time.monotonic() - 1.0)
                    try:
                        envelope = from_replay_line(line)
                    except MalformedMessage as exc:
                        log.warning("%s line %d skipped: %s", self.path.name, lineno, exc.reason)
                        log.debug("%s line %d detail: %s", self.path.name, lineno, exc.detail)
                        sink.drop(exc.reason)
                        continue
                    sink.accept(envelope)
            if not self.loop or lines_with_data == 0:
                log.info("replay of %s finished after %d pass(es)", self.path.name, passes)
                return

    def close(self) -> None:
        """Nothing blocks outside ``stop.wait``."""
