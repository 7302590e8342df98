"""Every language through the handler; SENTIMENT_FALLBACK sends Comprehend only what the embedded model cannot score."""

from __future__ import annotations

from typing import Any

import pytest
from transform import handler
from transform.handler import build_backend, process_event
from transform.sentiment import Deadline, Scored, ScoreRequest, Skipped
from transform.sentiment.comprehend import ComprehendBackend
from transform.sentiment.embedded import EmbeddedBackend
from transform.sentiment.fallback import FallbackBackend
from transform.sentiment.languages import EMBEDDED_LANGUAGES
from transform.sentiment.vader import VaderBackend
from transform.settings import ConfigError, Settings

from tests.support.transform import (
    StubComprehend,
    assert_valid_document,
    decode,
    envelope,
    firehose_event,
    record_data,
)

# One post per language the embedded backend scores (X's codes, one with a region variant); clearly positive, which
# every model but the weakest (Hindi: val macro-F1 under 0.4, labels checked in test_multilingual.py) gets right.
POSITIVE_POSTS: dict[str, tuple[str, str]] = {
    "en": ("I love this, it is great!", "en"),
    "ar": ("يا سلام ما اجمل هذا اليوم الرائع ❤️", "ar"),
    "de": ("Wunderbar, ich freue mich sehr, danke!", "de"),
    "es": ("Me encanta, qué feliz estoy, gracias!", "es"),
    "fr": ("J'adore, merci beaucoup, trop bien !", "fr"),
    "hi": ("wah bahut badhiya, thank you bhai, love it", "hi"),
    "it": ("Bellissimo, grazie mille, che bello!", "it"),
    "pt": ("Amei demais, muito obrigado, que lindo!", "pt-BR"),
}


@pytest.fixture(scope="module")
def embedded() -> EmbeddedBackend:
    return EmbeddedBackend()


def documents(response: dict[str, Any]) -> list[dict[str, Any]]:
    assert [r["result"] for r in response["records"]] == ["Ok"] * len(response["records"])
    docs = [decode(r["data"]) for r in response["records"]]
    for document in docs:
        assert_valid_document(document)
    return docs


def test_every_embedded_language_is_scored_through_the_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the Lambda's default configuration (embedded backend, no fallback) and one post per language
    assert set(POSITIVE_POSTS) == EMBEDDED_LANGUAGES
    monkeypatch.delenv("SENTIMENT_BACKEND", raising=False)
    monkeypatch.delenv("SENTIMENT_FALLBACK", raising=False)
    event = firehose_event([record_data(envelope(text, lang)) for text, lang in POSITIVE_POSTS.values()])
    # When the Lambda entry point handles them
    docs = documents(handler.lambda_handler(event, None))
    # Then each is scored by its own language's model
    for language, document in zip(POSITIVE_POSTS, docs, strict=True):
        assert document["sentiment"] in (("POSITIVE", "NEUTRAL") if language == "hi" else ("POSITIVE",)), language
        assert document["sentiment_skipped"] is None
        assert sum(document["sentiment_score"].values()) == pytest.approx(1.0)
        prefix = "embedded-" if language == "en" else f"embedded-{language}-"
        assert document["sentiment_model"].startswith(prefix), document["sentiment_model"]
    assert len({d["sentiment_model"] for d in docs}) == len(docs)


def test_without_the_fallback_other_languages_stay_unscored_and_nothing_is_called(embedded: EmbeddedBackend) -> None:
    event = firehose_event([record_data(envelope("最高の一日でした", "ja")), record_data(envelope("good", "und"))])
    docs = documents(process_event(event, None, backend=embedded))
    assert [(d["sentiment"], d["sentiment_skipped"]) for d in docs] == [(None, "unsupported_language")] * 2
    assert {d["sentiment_model"] for d in docs} == {embedded.model_name}


def test_the_fallback_sends_only_what_the_embedded_model_cannot_score(embedded: EmbeddedBackend) -> None:
    # Given the embedded backend with Comprehend behind it
    stub = StubComprehend()
    backend = FallbackBackend(embedded, ComprehendBackend(stub, concurrency=2))
    posts = [
        ("I love it, great day", "en"),  # embedded
        ("Me encanta, qué feliz estoy", "es"),  # embedded
        ("this is great 最高", "ja"),  # Comprehend ja (the stub labels "great" POSITIVE)
        ("좋아요 good", "ko"),  # Comprehend ko
        ("bad 太差了", "zh-cn"),  # Comprehend zh
        ("good 很好", "zh-Hant"),  # Comprehend zh-TW
        ("यह बहुत good है", "hi"),  # Hindi in Devanagari: the romanised model refuses it, Comprehend hi reads it
        ("good", "und"),  # neither: stays skipped
        ("goed", "nl"),  # neither
    ]
    event = firehose_event([record_data(envelope(text, lang)) for text, lang in posts])
    # When a batch goes through the handler
    docs = documents(process_event(event, None, backend=backend))
    # Then Comprehend saw exactly the five texts it supports and the embedded model could not score, by language
    expected = [("ja", ["this is great 最高"]), ("ko", ["좋아요 good"]), ("zh", ["bad 太差了"]),
                ("zh-TW", ["good 很好"]), ("hi", ["यह बहुत good है"])]  # fmt: skip
    assert sorted(stub.calls) == sorted(expected)
    assert backend.api_calls == 5
    models = [d["sentiment_model"] for d in docs]
    assert models[0] == embedded.model_name and models[1].startswith("embedded-es-")
    assert models[2:7] == ["comprehend"] * 5
    assert [d["sentiment"] for d in docs[2:7]] == ["POSITIVE", "POSITIVE", "NEGATIVE", "POSITIVE", "POSITIVE"]
    assert [(d["sentiment"], d["sentiment_skipped"], d["sentiment_model"]) for d in docs[7:]] == [
        (None, "unsupported_language", embedded.model_name)
    ] * 2


def test_fallback_calls_are_batched_25_a_call_and_cut_to_5000_bytes(embedded: EmbeddedBackend) -> None:
    stub = StubComprehend()
    backend = FallbackBackend(embedded, ComprehendBackend(stub, concurrency=2))
    requests = [ScoreRequest(f"good {i} " + "良" * 2000, "ja") for i in range(26)]
    outcomes = backend.score(requests, Deadline(30))
    assert sorted(len(texts) for _, texts in stub.calls) == [1, 25]
    assert all(len(t.encode("utf-8")) <= 5000 for t in stub.texts_sent)
    assert all(isinstance(o, Scored) and o.model == "comprehend" for o in outcomes)


def test_a_comprehend_failure_fails_only_the_fallback_records(embedded: EmbeddedBackend) -> None:
    stub = StubComprehend(raise_code="AccessDeniedException")  # e.g. the IAM grant is missing
    backend = FallbackBackend(embedded, ComprehendBackend(stub, concurrency=1))
    event = firehose_event([record_data(envelope("最高", "ja")), record_data(envelope("qué bonito", "es"))])
    response = process_event(event, None, backend=backend)
    assert [r["result"] for r in response["records"]] == ["ProcessingFailed", "Ok"]


def test_vader_with_the_fallback_sends_every_supported_non_english_post() -> None:
    stub = StubComprehend()
    backend = FallbackBackend(VaderBackend(), ComprehendBackend(stub, concurrency=1))
    outcomes = backend.score([ScoreRequest("great", "en"), ScoreRequest("genial", "es")], Deadline(10))
    assert stub.calls == [("es", ["genial"])]
    assert isinstance(outcomes[0], Scored) and outcomes[0].model is None
    assert isinstance(outcomes[1], Scored) and outcomes[1].model == "comprehend"
    assert backend.score([ScoreRequest("x", "und")], Deadline(10)) == [Skipped("unsupported_language")]


@pytest.mark.parametrize(
    ("env", "fallback"),
    [({}, "none"), ({"SENTIMENT_FALLBACK": "none"}, "none"), ({"SENTIMENT_FALLBACK": " Comprehend "}, "comprehend")],
)
def test_the_fallback_setting(env: dict[str, str], fallback: str) -> None:
    assert Settings.from_env(env).sentiment_fallback == fallback


def test_a_bad_fallback_value_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="SENTIMENT_FALLBACK='aws' is not a known fallback"):
        Settings.from_env({"SENTIMENT_FALLBACK": "aws"})


def test_build_backend_wraps_only_local_backends_and_only_when_asked() -> None:
    assert isinstance(build_backend(Settings()), EmbeddedBackend)
    wrapped = build_backend(Settings(sentiment_fallback="comprehend"))
    assert isinstance(wrapped, FallbackBackend)
    assert wrapped.model_name.startswith("embedded-")
    assert isinstance(
        build_backend(Settings(sentiment_backend="vader", sentiment_fallback="comprehend")), FallbackBackend
    )
    comprehend = build_backend(Settings(sentiment_backend="comprehend", sentiment_fallback="comprehend"))
    assert type(comprehend) is ComprehendBackend
