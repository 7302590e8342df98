"""Embedded backend: vaderSentiment (pure Python, English only, no network, no cost).

Before scoring, @mentions, URLs and a leading "RT" are stripped: VADER would otherwise read "@united" as the
word "united" and score URL fragments as words. compound ≥ 0.05 → POSITIVE, ≤ −0.05 → NEGATIVE, otherwise
NEUTRAL; the scores carry VADER's pos/neg/neu proportions and ``mixed`` 0 (VADER has no such class).
A text with nothing left after stripping (only mentions and links) is NEUTRAL with neutral 1.0.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from importlib import metadata
from typing import Protocol

from transform.sentiment import Deadline, Outcome, Scored, ScoreRequest, Scores, Skipped
from transform.sentiment.languages import is_english

POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05

_LEADING_RT = re.compile(r"^\s*RT\b(?:\s*[@＠]\w+)?:?")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MENTION = re.compile(r"(?<!\w)[@＠]\w+")
_SPACES = re.compile(r"\s+")
NOTHING_LEFT = Scored("NEUTRAL", Scores(positive=0.0, negative=0.0, neutral=1.0, mixed=0.0))
"""The outcome of a text with nothing left after cleaning (only mentions and links), in every embedded model."""


class Analyzer(Protocol):
    def polarity_scores(self, text: str) -> dict[str, float]: ...


def new_analyzer() -> Analyzer:
    """vaderSentiment's analyzer (loads its lexicons: tens of milliseconds, once per container)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer: Analyzer = SentimentIntensityAnalyzer()
    return analyzer


def clean_for_vader(text: str) -> str:
    """Text with a leading RT, URLs and @mentions removed and whitespace collapsed."""
    text = _LEADING_RT.sub("", text, count=1)
    text = _URL.sub(" ", text)
    text = _MENTION.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def _version() -> str:
    try:
        return metadata.version("vaderSentiment")
    except metadata.PackageNotFoundError:
        return "unknown"


class VaderBackend:
    """Scores English texts with VADER; every other language is skipped as unsupported.

    The embedded trained model (:class:`transform.sentiment.embedded.EmbeddedBackend`) extends this class: same
    cleaning and languages, its own decision from VADER's result (:meth:`decide`).
    """

    def __init__(self, analyzer: Analyzer | None = None) -> None:
        self._analyzer = analyzer if analyzer is not None else new_analyzer()
        self._model_name = f"vader-{_version()}"

    @property
    def model_name(self) -> str:
        return self._model_name

    @property
    def api_calls(self) -> int:
        return 0

    @property
    def api_throttles(self) -> int:
        return 0

    def score_text(self, text: str) -> Scored:
        cleaned = clean_for_vader(text)
        if not cleaned:
            return NOTHING_LEFT
        return self.decide(cleaned, self._analyzer.polarity_scores(cleaned))

    def decide(self, cleaned: str, raw: dict[str, float]) -> Scored:
        """The label and scores of a cleaned, non-empty text from VADER's ``polarity_scores`` of it."""
        scores = Scores(positive=float(raw["pos"]), negative=float(raw["neg"]), neutral=float(raw["neu"]), mixed=0.0)
        compound = float(raw["compound"])
        if compound >= POSITIVE_THRESHOLD:
            return Scored("POSITIVE", scores)
        if compound <= NEGATIVE_THRESHOLD:
            return Scored("NEGATIVE", scores)
        return Scored("NEUTRAL", scores)

    def score(self, requests: Sequence[ScoreRequest], deadline: Deadline) -> list[Outcome]:
        del deadline  # embedded and fast: a batch of 3,000 tweets takes well under a second
        return [
            self.score_text(req.text) if is_english(req.lang) else Skipped("unsupported_language") for req in requests
        ]
