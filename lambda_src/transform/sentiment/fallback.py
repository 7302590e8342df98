"""Comprehend as the fallback of an embedded backend (``SENTIMENT_FALLBACK=comprehend``, off by default).

The embedded backend scores first. Each text it skips as ``unsupported_language`` whose language Comprehend
supports (:func:`transform.sentiment.languages.to_comprehend`: ja, ko, zh, zh-TW, and Hindi in Devanagari, which
the embedded Hindi model does not read) goes to Comprehend BatchDetectSentiment through the
:class:`~transform.sentiment.comprehend.ComprehendBackend` (≤ 25 texts per call, each cut to 5,000 UTF-8 bytes,
deduplicated, concurrent, retried within the deadline). Those documents carry ``sentiment_model: "comprehend"``.
Texts neither can score (``und``, ``zxx``, Dutch, …) stay skipped; no call is made for them.

Failure policy: Comprehend's outcomes are taken as they come: a text it fails (``sentiment_error``,
``sentiment_timeout``) makes that record ProcessingFailed, kept for redrive, exactly as with the ``comprehend``
backend. The embedded outcomes are never retried remotely.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from transform.sentiment import Deadline, Outcome, Scored, ScoreRequest, SentimentBackend, Skipped
from transform.sentiment.languages import to_comprehend

UNSUPPORTED = Skipped("unsupported_language")


class FallbackBackend:
    """``primary`` for every text, then ``fallback`` for the texts ``primary`` cannot score but it can."""

    def __init__(self, primary: SentimentBackend, fallback: SentimentBackend) -> None:
        self._primary = primary
        self._fallback = fallback

    @property
    def model_name(self) -> str:
        """The primary's: the documents the fallback scores carry the fallback's name themselves."""
        return self._primary.model_name

    @property
    def api_calls(self) -> int:
        return self._primary.api_calls + self._fallback.api_calls

    @property
    def api_throttles(self) -> int:
        return self._primary.api_throttles + self._fallback.api_throttles

    def score(self, requests: Sequence[ScoreRequest], deadline: Deadline) -> list[Outcome]:
        outcomes = list(self._primary.score(requests, deadline))
        handed = [i for i, o in enumerate(outcomes) if o == UNSUPPORTED and to_comprehend(requests[i].lang) is not None]
        if not handed:
            return outcomes
        results = self._fallback.score([requests[i] for i in handed], deadline)
        if len(results) != len(handed):
            raise RuntimeError(f"fallback returned {len(results)} outcomes for {len(handed)} texts")
        name = self._fallback.model_name
        for index, result in zip(handed, results, strict=True):
            outcomes[index] = replace(result, model=result.model or name) if isinstance(result, Scored) else result
        return outcomes
