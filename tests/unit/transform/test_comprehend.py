"""Comprehend backend against a stub client: batching, cutting, languages, ErrorList, throttling, deadline."""

from __future__ import annotations

import threading
import time

import pytest
from transform.sentiment import Deadline, Failed, Scored, ScoreRequest, Skipped
from transform.sentiment.comprehend import MAX_TEXT_BYTES, ComprehendBackend, cut_utf8

from tests.support.transform import StubComprehend


def backend(stub: StubComprehend, **kwargs: object) -> ComprehendBackend:
    options: dict[str, object] = {"concurrency": 4, "base_backoff": 0.005, "max_backoff": 0.02}
    options.update(kwargs)
    return ComprehendBackend(stub, **options)  # type: ignore[arg-type]


def requests(n: int, lang: str = "en", word: str = "good") -> list[ScoreRequest]:
    return [ScoreRequest(f"{word} text {i}", lang) for i in range(n)]


@pytest.mark.parametrize(("n", "calls"), [(1, 1), (24, 1), (25, 1), (26, 2), (50, 2), (51, 3), (3000, 120)])
def test_chunks_of_at_most_25(n: int, calls: int) -> None:
    stub = StubComprehend()
    comprehend = backend(stub)
    outcomes = comprehend.score(requests(n), Deadline(30))
    assert len(stub.calls) == calls == comprehend.api_calls
    assert all(len(texts) <= 25 for _, texts in stub.calls)
    assert sorted(stub.texts_sent) == sorted(r.text for r in requests(n))
    assert all(isinstance(o, Scored) and o.label == "POSITIVE" for o in outcomes)


def test_outcomes_keep_request_order_across_languages() -> None:
    mixed = [ScoreRequest("good", "en"), ScoreRequest("bad", "es"), ScoreRequest("x", "nl"), ScoreRequest("meh", "EN")]
    stub = StubComprehend()
    outcomes = backend(stub).score(mixed, Deadline(10))
    assert [getattr(o, "label", None) for o in outcomes] == ["POSITIVE", "NEGATIVE", None, "NEUTRAL"]
    assert outcomes[2] == Skipped("unsupported_language")
    assert sorted(lang for lang, _ in stub.calls) == ["en", "es"]  # grouped by language, one call each


def test_language_codes_are_mapped_for_the_api() -> None:
    stub = StubComprehend()
    backend(stub).score(
        [ScoreRequest("好", "zh-tw"), ScoreRequest("好", "zh"), ScoreRequest("x", "PT-br")], Deadline(10)
    )
    assert sorted(lang for lang, _ in stub.calls) == ["pt", "zh", "zh-TW"]


def test_nothing_supported_means_no_call_and_no_client() -> None:
    def factory(_concurrency: int) -> StubComprehend:
        raise AssertionError("client must not be created")

    comprehend = ComprehendBackend(client_factory=factory)
    assert comprehend.score([ScoreRequest("x", "und"), ScoreRequest("y", "qme")], Deadline(1)) == [
        Skipped("unsupported_language"),
        Skipped("unsupported_language"),
    ]


def test_client_is_created_once_lazily() -> None:
    made: list[int] = []
    stub = StubComprehend()

    def factory(concurrency: int) -> StubComprehend:
        made.append(concurrency)
        return stub

    comprehend = ComprehendBackend(concurrency=3, client_factory=factory)
    assert made == []
    comprehend.score(requests(3), Deadline(5))
    comprehend.score(requests(3), Deadline(5))
    assert made == [3]


@pytest.mark.parametrize("char", ["a", "é", "€", "😀"])  # 1, 2, 3 and 4 UTF-8 bytes
@pytest.mark.parametrize("extra", [-1, 0, 1, 7])
def test_cut_to_5000_bytes_on_a_character_boundary(char: str, extra: int) -> None:
    width = len(char.encode())
    text = char * (MAX_TEXT_BYTES // width + extra)
    cut = cut_utf8(text)
    encoded = cut.encode("utf-8")
    assert len(encoded) <= MAX_TEXT_BYTES
    assert text.startswith(cut)
    if len(text.encode()) <= MAX_TEXT_BYTES:
        assert cut == text
    else:
        assert len(encoded) > MAX_TEXT_BYTES - width  # nothing more than the split character was dropped


def test_long_multibyte_text_is_scored_not_rejected() -> None:
    stub = StubComprehend()  # the stub reports TEXT_SIZE_LIMIT_EXCEEDED for anything over 5,000 bytes
    outcomes = backend(stub).score([ScoreRequest("good " + "é" * 4000, "fr")], Deadline(5))
    assert isinstance(outcomes[0], Scored)
    assert len(stub.texts_sent[0].encode()) <= MAX_TEXT_BYTES


def test_error_list_items_are_retried_then_fail_alone() -> None:
    stub = StubComprehend(item_errors={"good text 3": 1, "good text 7": -1})
    comprehend = backend(stub, max_item_retries=2)
    outcomes = comprehend.score(requests(10), Deadline(10))
    assert isinstance(outcomes[3], Scored)  # failed once, retried, scored
    assert outcomes[7] == Failed("sentiment_error")  # failed every time: that record alone fails
    assert all(isinstance(o, Scored) for i, o in enumerate(outcomes) if i != 7)
    # 1 call for the batch, then only the failed items: [3, 7], then [7], then give up
    assert [len(texts) for _, texts in stub.calls] == [10, 2, 1]


def test_throttling_is_retried_with_backoff() -> None:
    stub = StubComprehend(throttle=lambda n, _lang: n <= 3)
    comprehend = backend(stub, concurrency=1)
    outcomes = comprehend.score(requests(30), Deadline(10))
    assert all(isinstance(o, Scored) for o in outcomes)
    assert len(stub.calls) == 5  # three throttled attempts, then the two chunks
    assert (comprehend.api_calls, comprehend.api_throttles) == (5, 3)  # the ApiThrottles metric's count


def test_throttling_until_time_runs_out_fails_only_the_unscored() -> None:
    stub = StubComprehend(throttle=lambda _n, lang: lang == "es")
    mixed = requests(30, "en") + requests(30, "es", word="bad")
    started = time.monotonic()
    outcomes = backend(stub, base_backoff=0.02, max_backoff=0.05).score(mixed, Deadline(0.4))
    assert time.monotonic() - started < 5  # bounded by the deadline, not by a retry count
    assert all(isinstance(o, Scored) for o in outcomes[:30])
    assert outcomes[30:] == [Failed("sentiment_timeout")] * 30


def test_expired_deadline_makes_no_call() -> None:
    stub = StubComprehend()
    outcomes = backend(stub).score(requests(3), Deadline(0))
    assert outcomes == [Failed("sentiment_timeout")] * 3
    assert stub.calls == []


def test_hung_call_does_not_hold_the_invocation_past_the_deadline() -> None:
    release = threading.Event()

    class Hanging(StubComprehend):
        def batch_detect_sentiment(self, **kwargs: object) -> dict[str, object]:  # type: ignore[override]
            release.wait(5)
            return super().batch_detect_sentiment(**kwargs)  # type: ignore[arg-type]

    try:
        started = time.monotonic()
        outcomes = backend(Hanging()).score(requests(3), Deadline(0.2))
        assert time.monotonic() - started < 2
        assert outcomes == [Failed("sentiment_timeout")] * 3
    finally:
        release.set()


@pytest.mark.parametrize("code", ["AccessDeniedException", "ValidationException"])
def test_non_retryable_client_error_fails_the_chunk(code: str) -> None:
    stub = StubComprehend(raise_code=code)
    outcomes = backend(stub).score(requests(3), Deadline(5))
    assert outcomes == [Failed("sentiment_error")] * 3
    assert len(stub.calls) == 1


def test_transient_server_errors_are_retried_a_bounded_number_of_times() -> None:
    stub = StubComprehend(raise_code="InternalServerException")
    comprehend = backend(stub)
    outcomes = comprehend.score(requests(3), Deadline(30))
    assert outcomes == [Failed("sentiment_error")] * 3
    assert len(stub.calls) == 4
    assert comprehend.api_throttles == 0  # a server error is not a throttle


def test_chunks_run_concurrently_up_to_the_limit() -> None:
    in_flight = 0
    peak = 0
    lock = threading.Lock()

    class Slow(StubComprehend):
        def batch_detect_sentiment(self, **kwargs: object) -> dict[str, object]:  # type: ignore[override]
            nonlocal in_flight, peak
            with lock:
                in_flight += 1
                peak = max(peak, in_flight)
            time.sleep(0.05)
            with lock:
                in_flight -= 1
            return super().batch_detect_sentiment(**kwargs)  # type: ignore[arg-type]

    backend(Slow(), concurrency=3).score(requests(200), Deadline(30))
    assert 1 < peak <= 3


def test_unexpected_response_fails_items_not_the_batch() -> None:
    class Broken(StubComprehend):
        def batch_detect_sentiment(self, **kwargs: object) -> dict[str, object]:  # type: ignore[override]
            return {"ResultList": [{"Index": 0, "Sentiment": "ECSTATIC", "SentimentScore": {}}], "ErrorList": []}

    outcomes = backend(Broken()).score(requests(2), Deadline(5))
    assert outcomes == [Failed("sentiment_error"), Failed("sentiment_error")]


def test_the_lambda_s_backoff_copy_agrees_with_the_shared_backoff() -> None:
    # The Lambda zip holds transform/ only, so comprehend.py keeps a copy of ingester/backoff.py's formula.
    import random

    from transform.sentiment import comprehend

    from ingester import backoff as shared

    assert comprehend.MAX_DOUBLINGS == shared.MAX_DOUBLINGS
    for attempt in [0, 1, 2, 5, 10, 61, 62, 63, 500]:
        for base, cap in [(0.1, 2.0), (0.005, 0.02), (0.1, 30.0), (5.0, 320.0), (0.0, 1.0)]:
            for unit in [0.0, 0.25, 0.5, 0.999999]:
                assert comprehend.backoff_delay(attempt, base, cap, unit) == shared.backoff_delay(
                    attempt, base, cap, unit
                ), (attempt, base, cap, unit)
    # and the backend's retries follow it: the delay after n failures is the shared Backoff's n-th delay
    draws = random.Random(11)
    ours = ComprehendBackend(StubComprehend(), base_backoff=0.1, max_backoff=2.0, rng=draws.random)
    theirs = shared.Backoff(0.1, 2.0, random.Random(11))
    assert [ours._backoff(n) for n in range(1, 9)] == [theirs.next() for _ in range(8)]
