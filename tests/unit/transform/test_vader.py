"""Embedded VADER backend: cleaning, thresholds, English only."""

from __future__ import annotations

import pytest
from transform.sentiment import Deadline, Scored, ScoreRequest, Skipped
from transform.sentiment.vader import VaderBackend, clean_for_vader

from tests.support.transform import CLEAR_TEXTS


@pytest.fixture(scope="module")
def vader() -> VaderBackend:
    return VaderBackend()


def test_model_name_carries_the_version(vader: VaderBackend) -> None:
    assert vader.model_name == "vader-3.3.2"
    assert vader.api_calls == 0


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("RT @united: great flight https://t.co/abc", "great flight"),
        ("@united you lost my bag", "you lost my bag"),
        ("see www.example.com/x and http://a.b", "see and"),
        ("mail me@example.com", "mail me@example.com"),
        ("ART is not a retweet", "ART is not a retweet"),
        ("@a @b https://t.co/x", ""),
    ],
)
def test_cleaning(raw: str, cleaned: str) -> None:
    assert clean_for_vader(raw) == cleaned


def test_mentions_do_not_score_as_words(vader: VaderBackend) -> None:
    # VADER alone reads "@hate_speech_watch" as words; stripped, the text is neutral.
    assert vader.score_text("@hate_speech_watch meeting at 5").label == "NEUTRAL"


@pytest.mark.parametrize(("text", "label"), CLEAR_TEXTS)
def test_labels(vader: VaderBackend, text: str, label: str) -> None:
    result = vader.score_text(text)
    assert result.label == label
    scores = result.scores
    assert scores.mixed == 0.0
    assert all(0.0 <= v <= 1.0 for v in (scores.positive, scores.negative, scores.neutral))


def test_thresholds_use_compound() -> None:
    class Fixed:
        def __init__(self, compound: float) -> None:
            self.compound = compound

        def polarity_scores(self, text: str) -> dict[str, float]:
            return {"pos": 0.2, "neg": 0.1, "neu": 0.7, "compound": self.compound}

    def label(compound: float) -> str:
        return VaderBackend(analyzer=Fixed(compound)).score_text("words").label

    assert label(0.05) == "POSITIVE"
    assert label(0.0499) == "NEUTRAL"
    assert label(-0.0499) == "NEUTRAL"
    assert label(-0.05) == "NEGATIVE"


def test_non_english_is_skipped(vader: VaderBackend) -> None:
    outcomes = vader.score(
        [ScoreRequest("great", "en"), ScoreRequest("genial", "es"), ScoreRequest("ok", "und")], Deadline(10)
    )
    assert isinstance(outcomes[0], Scored)
    assert outcomes[1:] == [Skipped("unsupported_language"), Skipped("unsupported_language")]
