"""Sentiment backends behind one small interface.

A backend receives the unique (language, text) pairs of one invocation and returns one outcome per pair, in
order: :class:`Scored`, :class:`Skipped` (a reason the document carries: ``unsupported_language``) or
:class:`Failed` (the record becomes ProcessingFailed with that reason). Backends never raise for one item.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

Label = Literal["POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED"]
SkipReason = Literal["unsupported_language", "empty_text"]
FailReason = Literal["sentiment_error", "sentiment_timeout", "enrichment_error", "enrichment_timeout"]


@dataclass(frozen=True)
class ScoreRequest:
    """One text to score; ``lang`` is X's language code as received (any case)."""

    text: str
    lang: str


@dataclass(frozen=True)
class Scores:
    positive: float
    negative: float
    neutral: float
    mixed: float

    def as_dict(self) -> dict[str, float]:
        return {"positive": self.positive, "negative": self.negative, "neutral": self.neutral, "mixed": self.mixed}


@dataclass(frozen=True)
class Scored:
    label: Label
    scores: Scores
    model: str | None = None
    """The model that scored this text when it is not the backend's ``model_name`` (another language's model, or
    Comprehend as the fallback); the document's ``sentiment_model``. None: the backend's own."""


@dataclass(frozen=True)
class Skipped:
    reason: SkipReason


@dataclass(frozen=True)
class Failed:
    reason: FailReason


Outcome = Scored | Skipped | Failed


class Deadline:
    """The time an invocation may still spend on sentiment calls (monotonic clock, injectable for tests)."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._at = clock() + seconds

    def remaining(self) -> float:
        return max(0.0, self._at - self._clock())

    def expired(self) -> bool:
        return self.remaining() <= 0.0


class SentimentBackend(Protocol):
    """What the handler needs from a backend."""

    @property
    def model_name(self) -> str:
        """Goes into every scored document's ``sentiment_model`` (e.g. 'comprehend', 'vader-3.3.2')."""
        ...

    @property
    def api_calls(self) -> int:
        """Remote calls made so far by this backend instance (0 for embedded models)."""
        ...

    @property
    def api_throttles(self) -> int:
        """Of those calls, the ones the service refused as throttled (0 for embedded models)."""
        ...

    def score(self, requests: Sequence[ScoreRequest], deadline: Deadline) -> list[Outcome]:
        """One outcome per request, in order. Never raises for one item."""
        ...
