"""Sources behind one interface: ``run(sink, stop)`` reads until ``stop`` is set, the sink wants no more,
or (finite sources) the input ends. They hand envelopes to ``sink.accept`` and bad input to ``sink.drop``.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol


class Sink(Protocol):
    @property
    def wants_more(self) -> bool: ...

    def accept(self, envelope: dict[str, Any]) -> bool: ...

    def drop(self, reason: str) -> None: ...

    def reset_dedupe(self) -> None: ...


class Source(Protocol):
    name: str

    def run(self, sink: Sink, stop: threading.Event) -> None:
        """Read until ``stop`` is set, ``sink.wants_more`` is False, or the input ends (finite sources)."""

    def close(self) -> None:
        """Called from another thread after ``stop`` is set: interrupt blocking reads."""

    def drained(self) -> None:
        """Called after the run when the WAL and the spool are empty: every record the source handed over is
        delivered (or dead-lettered), so state kept only against a resend may go (the replay's offset)."""
