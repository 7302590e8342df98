"""Embedded trained model: the shipped weights load and verify, clear texts get the documented labels, features."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from transform.sentiment import Deadline, Scored, ScoreRequest, Skipped
from transform.sentiment.embedded import (
    CLASSES,
    FORMAT,
    WEIGHTS_PATH,
    EmbeddedBackend,
    Model,
    WeightsError,
    checksum,
    features,
    load_weights,
    tokens,
)

from tests.support.transform import CLEAR_TEXTS

NO_LEXICON: tuple[frozenset[str], frozenset[str]] = (frozenset(), frozenset())


@pytest.fixture(scope="module")
def embedded() -> EmbeddedBackend:
    return EmbeddedBackend()


def test_the_shipped_weights_verify_and_name_the_model(embedded: EmbeddedBackend) -> None:
    header_line, body = WEIGHTS_PATH.read_bytes().split(b"\n", 1)
    header = json.loads(header_line)
    assert header == {"format": FORMAT, "sha256": checksum(body)}
    assert embedded.model_name == f"embedded-{header['sha256'][:8]}"
    assert embedded.api_calls == 0
    document = json.loads(body)
    assert document["classes"] == list(CLASSES)
    assert len(document["weights"]) > 1_000
    assert WEIGHTS_PATH.stat().st_size < 3_000_000
    assert "Tweet Sentiment Extraction" in document["trained_on"]


@pytest.mark.parametrize(
    ("text", "label"),
    [*CLEAR_TEXTS, ("Best day ever, thank you so much :)", "POSITIVE"), ("so sad, I miss you already :(", "NEGATIVE")],
)
def test_clear_texts_get_the_documented_labels(embedded: EmbeddedBackend, text: str, label: str) -> None:
    result = embedded.score_text(text)
    scores = result.scores.as_dict().values()
    assert (result.label, sum(scores)) == (label, pytest.approx(1.0))
    assert min(scores) >= 0.0


@pytest.mark.parametrize(
    "text",
    ["@united thanks for nothing, flight delayed AGAIN", "not happy with this at all", "no, this is not good"],
)
def test_complaints_with_polite_or_negated_words_are_not_positive(embedded: EmbeddedBackend, text: str) -> None:
    assert embedded.score_text(text).label != "POSITIVE"


def test_languages_without_a_model_are_skipped(embedded: EmbeddedBackend) -> None:
    requests = [ScoreRequest("great", "en"), ScoreRequest("geweldig", "nl"), ScoreRequest("great", "und"),
                ScoreRequest("great", "")]  # fmt: skip
    outcomes = embedded.score(requests, Deadline(10))
    assert isinstance(outcomes[0], Scored) and outcomes[0].model is None  # the backend's own model name
    assert outcomes[1:] == [Skipped("unsupported_language")] * 3


def test_tokens_normalise_apostrophes_entities_elongation_and_keep_emoji() -> None:
    assert tokens("I`m sooooo happy &amp; :D \U0001f600!!!") == ["i'm", "soo", "happy", "&", ":d", "\U0001f600", "!!!"]


def test_negation_marks_the_next_words_until_punctuation() -> None:
    found = features("not a good day. great party", 0.0, NO_LEXICON)
    assert {"a_NEG", "good_NEG", "day_NEG", "great", "party"} <= found
    assert "good" not in found and "great_NEG" not in found


def test_lexicon_counts_flip_under_negation_and_vader_is_binned() -> None:
    lexicon = (frozenset({"good"}), frozenset({"bad"}))
    found = features("good, not bad", 0.3, lexicon)
    assert {"_LEX+2", "_LEX-0", "_LEX1", "_VADER6"} <= found
    assert "_VADER9" in features("x", 1.0, lexicon) and "_VADER0" in features("x", -1.0, lexicon)


def model(**weights: list[float]) -> Model:
    return Model("test", dict(weights), (0.0, 0.0, 0.0), (0.0, 0.0, 0.0), 0.4, NO_LEXICON)


def test_mixed_only_when_both_polar_classes_are_strong() -> None:
    m = model(love=[0.0, -5.0, 2.0], hate=[2.0, -5.0, 0.0])
    mixed = m.decide(m.probabilities({"love", "hate"}))
    assert mixed.label == "MIXED"
    # equal polar logits: nearly all the probability is shared by both sides, so it moves to mixed
    assert mixed.scores.mixed == pytest.approx(1.0, abs=0.01)
    assert mixed.scores.positive == pytest.approx(0.0, abs=1e-9)
    assert mixed.scores.negative == pytest.approx(0.0, abs=1e-9)
    assert sum(mixed.scores.as_dict().values()) == pytest.approx(1.0)
    assert m.decide(m.probabilities({"love"})).label == "POSITIVE"


def test_the_decision_bias_moves_the_neutral_band() -> None:
    m = model(meh=[0.3, 0.5, 0.0])
    assert m.decide(m.probabilities({"meh"})).label == "NEUTRAL"
    biased = Model("test", m.weights, m.bias, (0.6, 0.0, 0.0), 0.4, NO_LEXICON)
    assert biased.decide(biased.probabilities({"meh"})).label == "NEGATIVE"


def test_a_damaged_weights_file_fails_loudly(tmp_path: Path) -> None:
    data = WEIGHTS_PATH.read_bytes()
    damaged = tmp_path / "damaged.json"
    # one weight changed: the checksum no longer matches
    damaged.write_bytes(re.sub(rb"\[(-?)0\.0(\d)", rb"[\g<1>0.9\2", data, count=1))
    with pytest.raises(WeightsError, match="checksum mismatch"):
        load_weights(damaged)
    other = tmp_path / "other.json"
    other.write_bytes(b'{"format":"something-else"}\n{}')
    with pytest.raises(WeightsError, match="not a tweet-sentiment-linear/1"):
        load_weights(other)
    with pytest.raises(WeightsError, match="cannot read"):
        load_weights(tmp_path / "missing.json")
    body = b'{"classes":["NEGATIVE","NEUTRAL","POSITIVE"],"weights":{"x":[1,2]}}'
    short = tmp_path / "short.json"
    short.write_bytes(json.dumps({"format": FORMAT, "sha256": checksum(body)}).encode() + b"\n" + body)
    with pytest.raises(WeightsError, match="malformed"):
        load_weights(short)
