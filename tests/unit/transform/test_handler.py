"""The handler end to end with both backends: contract, bad input, redrive, dedupe, deadline, logs, config."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from typing import Any

import pytest
from transform import handler
from transform.handler import process_event
from transform.sentiment import Deadline, Outcome, ScoreRequest
from transform.sentiment.comprehend import ComprehendBackend
from transform.sentiment.embedded import EmbeddedBackend
from transform.sentiment.vader import VaderBackend
from transform.settings import ConfigError, Settings

from tests.events import generate
from tests.support.commands import run
from tests.support.paths import EVENTS_DIR, REPO_ROOT
from tests.support.transform import (
    ENVELOPE_VALIDATOR,
    FakeContext,
    StubComprehend,
    assert_valid_document,
    b64,
    decode,
    envelope,
    firehose_event,
    record_data,
)


@pytest.fixture(scope="module")
def vader() -> VaderBackend:
    return VaderBackend()


def comprehend(stub: StubComprehend, concurrency: int = 4) -> ComprehendBackend:
    return ComprehendBackend(stub, concurrency=concurrency, base_backoff=0.01, max_backoff=0.05)


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS_DIR / name).read_text())


def results(response: dict[str, Any]) -> list[str]:
    return [r["result"] for r in response["records"]]


def ok_documents(response: dict[str, Any]) -> list[dict[str, Any]]:
    docs = [decode(r["data"]) for r in response["records"] if r["result"] == "Ok"]
    for document in docs:
        assert_valid_document(document)
    return docs


def test_sample_events_are_up_to_date_and_their_envelopes_match_the_contract() -> None:
    for name, event in generate.EVENTS.items():
        assert (EVENTS_DIR / name).read_text() == generate.render(event), (
            f"run python -m tests.events.generate ({name})"
        )
    for record in load_event("firehose_basic.json")["records"]:
        assert not list(ENVELOPE_VALIDATOR.iter_errors(decode(record["data"])))


def test_basic_event_with_vader(vader: VaderBackend) -> None:
    event = load_event("firehose_basic.json")
    response = process_event(event, None, backend=vader)
    assert [r["recordId"] for r in response["records"]] == [r["recordId"] for r in event["records"]]
    assert results(response) == ["Ok"] * 7
    docs = ok_documents(response)
    assert [d["sentiment"] for d in docs] == ["POSITIVE", "NEGATIVE", "POSITIVE", None, "POSITIVE", None, None]
    assert [d["sentiment_skipped"] for d in docs] == [
        None, None, None, "unsupported_language", None, "unsupported_language", "empty_text",
    ]  # fmt: skip
    assert {d["sentiment_model"] for d in docs} == {"vader-3.3.2"}
    assert docs[0]["hashtags"] == ["aws"] and docs[0]["mentions"] == ["awscloud"]
    assert docs[1]["hashtags"] == ["fail"] and docs[1]["mentions"] == ["united"]  # parsed from text
    assert (docs[2]["is_retweet"], docs[3]["is_reply"], docs[4]["is_quote"]) == (True, True, True)
    assert docs[4]["text"].startswith("A long thought about serverless: cold starts")
    assert docs[4]["hashtags"] == ["serverless", "lambda"] and docs[4]["mentions"] == ["jeffbarr"]
    assert docs[6]["sentiment_score"] is None


def test_basic_event_with_comprehend() -> None:
    stub = StubComprehend()
    response = process_event(load_event("firehose_basic.json"), FakeContext(60_000), backend=comprehend(stub))
    docs = ok_documents(response)
    assert [d["sentiment"] for d in docs] == ["POSITIVE", "NEGATIVE", "POSITIVE", "NEUTRAL", "POSITIVE", None, None]
    assert [d["sentiment_skipped"] for d in docs][5:] == ["unsupported_language", "empty_text"]
    assert docs[3]["sentiment_score"] == {"positive": 0.01, "negative": 0.01, "neutral": 0.97, "mixed": 0.01}
    assert {d["sentiment_model"] for d in docs} == {"comprehend"}
    assert sorted(lang for lang, _ in stub.calls) == ["en", "es"]


def test_malformed_event_fails_each_bad_record_alone_keeping_its_data(vader: VaderBackend) -> None:
    event = load_event("firehose_malformed.json")
    response = process_event(event, None, backend=vader)
    assert results(response) == ["ProcessingFailed"] * 9 + ["Ok"]
    for given, returned in zip(event["records"][:9], response["records"][:9], strict=True):
        assert returned["data"] == given["data"]  # original data, so the S3 copy can be redriven
    ok_documents(response)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("%%%", "bad_base64"),
        (b64(b"\xc3\x28"), "not_utf8"),
        (b64('{"v":1,'), "invalid_json"),
        (b64("null"), "not_an_object"),
        (record_data({"text": "hi"}), "not_an_envelope"),
        (record_data({**envelope(), "v": 3}), "unknown_version"),
        (record_data({**envelope(), "received_at": None}), "invalid_envelope"),
        (record_data(envelope(text="é" * 1_000_000)), "text_too_long"),  # a 1 MB (2 MB in UTF-8) text
    ],
)
def test_every_bad_input_kind_is_processing_failed_with_reason(
    vader: VaderBackend, caplog: pytest.LogCaptureFixture, data: str, reason: str
) -> None:
    good = record_data(envelope())
    with caplog.at_level(logging.INFO, logger="transform"):
        response = process_event(firehose_event([good, data, good]), None, backend=vader)
    assert results(response) == ["Ok", "ProcessingFailed", "Ok"]
    assert response["records"][1]["data"] == data
    warnings = [json.loads(r.getMessage()) for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [{"event": "records_failed", "reasons": {reason: 1}}]


def test_record_without_data_is_failed_with_empty_data(vader: VaderBackend) -> None:
    event = {"records": [{"recordId": "a"}, {"recordId": "b", "data": record_data(envelope())}]}
    response = process_event(event, None, backend=vader)
    assert response["records"][0] == {"recordId": "a", "result": "ProcessingFailed", "data": ""}
    assert response["records"][1]["result"] == "Ok"


@pytest.mark.parametrize("event", [{}, {"records": None}, {"records": [{"data": "x"}]}, {"records": [1]}, []])
def test_an_event_that_is_not_from_firehose_is_rejected_clearly(vader: VaderBackend, event: Any) -> None:
    with pytest.raises(ValueError, match="not a Firehose data-transformation event"):
        process_event(event, None, backend=vader)


def test_empty_batch(vader: VaderBackend) -> None:
    assert process_event({"records": []}, None, backend=vader) == {"records": []}


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_text_is_ok_without_sentiment(text: str) -> None:
    stub = StubComprehend()
    response = process_event(firehose_event([record_data(envelope(text=text))]), None, backend=comprehend(stub))
    (document,) = ok_documents(response)
    assert (document["sentiment"], document["sentiment_skipped"], document["sentiment_score"]) == (
        None,
        "empty_text",
        None,
    )
    assert stub.calls == []


def test_redrive_document_passes_through_byte_identical() -> None:
    stub = StubComprehend()
    event = load_event("firehose_redrive.json")
    response = process_event(event, None, backend=comprehend(stub))
    assert results(response) == ["Ok", "Ok"]
    assert response["records"][0]["data"] == event["records"][0]["data"]
    assert stub.texts_sent == [generate.BASIC[1]["tweet"]["text"]]  # only the envelope was scored


def test_redrive_of_our_own_output_is_identity(vader: VaderBackend) -> None:
    first = process_event(firehose_event([record_data(envelope())]), None, backend=vader)
    again = process_event(firehose_event([first["records"][0]["data"]]), None, backend=vader)
    assert again["records"][0] == first["records"][0]


def test_identical_texts_are_scored_once() -> None:
    stub = StubComprehend()
    texts = ["RT @a: good news"] * 100 + ["bad news"] * 50 + ["good news"]
    datas = [record_data(envelope(text=t)) for t in texts]
    datas.append(record_data(envelope(text="bad news", lang="EN")))  # same language, other spelling
    datas.append(record_data(envelope(text="bad news", lang="es")))  # other language: scored separately
    response = process_event(firehose_event(datas), None, backend=comprehend(stub))
    assert results(response) == ["Ok"] * len(datas)
    assert sorted(stub.texts_sent) == ["RT @a: good news", "bad news", "bad news", "good news"]
    labels = [d["sentiment"] for d in ok_documents(response)]
    assert labels[:100] == ["POSITIVE"] * 100 and labels[100:151] == ["NEGATIVE"] * 50 + ["POSITIVE"]


@pytest.mark.parametrize(("n", "calls"), [(25, 1), (26, 2)])
def test_25_and_26_documents(n: int, calls: int) -> None:
    stub = StubComprehend()
    datas = [record_data(envelope(text=f"good {i}")) for i in range(n)]
    response = process_event(firehose_event(datas), None, backend=comprehend(stub))
    assert results(response) == ["Ok"] * n
    assert len(stub.calls) == calls


def test_5000_bytes_of_multibyte_text_is_cut_for_comprehend_but_kept_whole_in_the_document() -> None:
    stub = StubComprehend()
    text = "good " + "日本語" * 2000  # 18,005 UTF-8 bytes
    response = process_event(
        firehose_event([record_data(envelope(text=text, lang="ja"))]), None, backend=comprehend(stub)
    )
    (document,) = ok_documents(response)
    assert document["text"] == text
    assert document["sentiment"] == "POSITIVE"
    (sent,) = stub.texts_sent
    assert len(sent.encode("utf-8")) == 5000 - 5000 % 3 + 2  # "good " (5 bytes) + whole 3-byte characters


def test_error_list_failure_fails_that_record_alone() -> None:
    stub = StubComprehend(item_errors={"bad luck": -1, "retry me": 1})
    datas = [record_data(envelope(text=t)) for t in ["good one", "bad luck", "retry me", "another good one"]]
    response = process_event(firehose_event(datas), None, backend=comprehend(stub))
    assert results(response) == ["Ok", "ProcessingFailed", "Ok", "Ok"]
    assert response["records"][1]["data"] == datas[1]


def test_throttling_with_time_running_out_fails_only_unscored_records() -> None:
    stub = StubComprehend(throttle=lambda _n, lang: lang == "fr")
    datas = [record_data(envelope(text=f"good {i}", lang="en")) for i in range(30)]
    datas += [record_data(envelope(text=f"bon {i}", lang="fr")) for i in range(30)]
    context = FakeContext(handler.SAFETY_MARGIN_S * 1000 + 400)  # 0.4 s of budget after the safety margin
    response = process_event(firehose_event(datas), context, backend=comprehend(stub))
    assert results(response) == ["Ok"] * 30 + ["ProcessingFailed"] * 30
    assert [r["data"] for r in response["records"][30:]] == datas[30:]


def test_no_time_left_fails_everything_that_needs_a_call_but_nothing_else() -> None:
    stub = StubComprehend()
    datas = [record_data(envelope(text="good")), record_data(envelope(text="x", lang="und"))]
    datas.append(record_data({"tweet_id": "1", "sentiment_model": "comprehend"}))
    response = process_event(firehose_event(datas), FakeContext(1000), backend=comprehend(stub))
    assert results(response) == ["ProcessingFailed", "Ok", "Ok"]
    assert stub.calls == []


def test_a_backend_that_breaks_fails_its_records_not_the_batch(caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        model_name = "broken"
        api_calls = 0
        api_throttles = 0

        def score(self, requests: list[ScoreRequest], deadline: Deadline) -> list[Outcome]:
            raise RuntimeError("boom")

    datas = [record_data(envelope()), record_data(envelope(text="x", lang="und")), record_data(envelope(text=""))]
    with caplog.at_level(logging.ERROR):
        response = process_event(firehose_event(datas), None, backend=Broken())
    assert results(response) == ["ProcessingFailed", "ProcessingFailed", "Ok"]
    assert "sentiment backend failed" in caplog.text


def test_one_info_summary_line_without_tweet_text(vader: VaderBackend, caplog: pytest.LogCaptureFixture) -> None:
    event = load_event("firehose_basic.json")
    event["records"].append({"recordId": "bad", "data": "%%%"})
    with caplog.at_level(logging.DEBUG, logger="transform"):
        process_event(event, None, backend=vader)
    info = [r for r in caplog.records if r.levelno == logging.INFO]
    assert len(info) == 1
    summary = json.loads(info[0].getMessage())
    assert summary["event"] == "invocation"
    assert summary["records"] == 8
    assert summary["results"] == {"Ok": 7, "ProcessingFailed": 1}
    assert summary["sentiment"] == {"NEGATIVE": 1, "POSITIVE": 3}
    assert summary["skipped"] == {"empty_text": 1, "unsupported_language": 2}
    assert summary["failed"] == {"bad_base64": 1}
    assert summary["backend"] == "vader" and summary["api_calls"] == 0
    assert summary["request_id"] is None  # no Lambda context
    assert summary["duration_ms"] >= 0
    for record in caplog.records:
        assert "Loving the new" not in record.getMessage()


def test_emf_metrics_line(vader: VaderBackend, caplog: pytest.LogCaptureFixture) -> None:
    stream = io.StringIO()
    settings = Settings(sentiment_backend="vader", emit_metrics=True, metrics_namespace="Tweets/Test")
    with caplog.at_level(logging.INFO, logger="transform"):
        process_event(load_event("firehose_basic.json"), None, backend=vader, settings=settings, metrics_stream=stream)
    (line,) = stream.getvalue().splitlines()
    emf = json.loads(line)
    (directive,) = emf["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "Tweets/Test"
    assert directive["Dimensions"] == [["Backend"]]
    assert emf["Backend"] == "vader"
    for metric in directive["Metrics"]:
        assert isinstance(emf[metric["Name"]], int | float)
    assert (emf["Records"], emf["RecordsOk"], emf["Positive"], emf["Skipped"]) == (7, 7, 3, 3)
    assert not [r for r in caplog.records if r.levelno == logging.INFO]  # the EMF line is the summary


def test_emf_counts_the_throttled_sentiment_calls_of_the_invocation() -> None:
    # Given a Comprehend backend that already had throttles in an earlier invocation of the same container
    stub = StubComprehend(throttle=lambda n, _lang: n <= 2)
    backend = comprehend(stub, concurrency=1)
    settings = Settings(emit_metrics=True, metrics_namespace="Tweets/Test")
    process_event(
        load_event("firehose_basic.json"), None, backend=backend, settings=settings, metrics_stream=io.StringIO()
    )
    first = len(stub.calls)
    stub.throttle = lambda n, _lang: first < n <= first + 3
    # When the next invocation is throttled three times
    stream = io.StringIO()
    process_event(load_event("firehose_basic.json"), None, backend=backend, settings=settings, metrics_stream=stream)
    # Then its EMF line counts those three (not the container's total) among its calls
    emf = json.loads(stream.getvalue())
    assert first > 2 and (emf["ApiCalls"], emf["ApiThrottles"]) == (len(stub.calls) - first, 3)
    assert {"Name": "ApiThrottles", "Unit": "Count"} in emf["_aws"]["CloudWatchMetrics"][0]["Metrics"]


def test_lambda_handler_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENTIMENT_BACKEND", "vader")
    response = handler.lambda_handler(load_event("firehose_basic.json"), None)
    assert results(response) == ["Ok"] * 7
    assert handler.get_runtime().settings.sentiment_backend == "vader"


def test_default_backend_is_the_embedded_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SENTIMENT_BACKEND", raising=False)
    runtime = handler.get_runtime()
    assert isinstance(runtime.backend, EmbeddedBackend)
    assert runtime.backend.model_name.startswith("embedded-")
    assert runtime.backend.api_calls == 0


def test_comprehend_backend_has_its_client_created_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENTIMENT_BACKEND", "comprehend")
    monkeypatch.setenv("COMPREHEND_CONCURRENCY", "2")
    runtime = handler.get_runtime()
    assert isinstance(runtime.backend, ComprehendBackend)
    assert runtime.backend.client is None
    assert runtime.backend.model_name == "comprehend"


def test_settings_from_env() -> None:
    settings = Settings.from_env(
        {"SENTIMENT_BACKEND": " VADER ", "COMPREHEND_CONCURRENCY": "8", "EMIT_METRICS": "true",
         "METRICS_NAMESPACE": "Ns", "LOG_LEVEL": "debug"}
    )  # fmt: skip
    assert settings == Settings("vader", 8, True, "Ns", "DEBUG")
    assert Settings.from_env({}) == Settings("embedded", 4, False, "TweetSentiment", "INFO")
    assert Settings.from_env({"SENTIMENT_BACKEND": "vader"}, sentiment_backend="comprehend").sentiment_backend == (
        "comprehend"
    )


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"SENTIMENT_BACKEND": "textblob"}, "SENTIMENT_BACKEND='textblob'"),
        ({"COMPREHEND_CONCURRENCY": "many"}, "COMPREHEND_CONCURRENCY='many'"),
        ({"COMPREHEND_CONCURRENCY": "0"}, "COMPREHEND_CONCURRENCY=0"),
        ({"EMIT_METRICS": "maybe"}, "EMIT_METRICS='maybe'"),
        ({"METRICS_NAMESPACE": " "}, "METRICS_NAMESPACE"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL='LOUD'"),
    ],
)
def test_bad_configuration_names_the_variable(env: dict[str, str], names: str) -> None:
    with pytest.raises(ConfigError, match=names.replace("(", r"\(")):
        Settings.from_env(env)


def run_in_lambda_environment(code: str, backend: str) -> subprocess.CompletedProcess[str]:
    """Python code in a fresh interpreter that sees only lambda_src and the Lambda's environment."""
    env = {"PYTHONPATH": str(REPO_ROOT / "lambda_src"), "AWS_LAMBDA_FUNCTION_NAME": "tweets-transform",
           "SENTIMENT_BACKEND": backend, "PATH": "/usr/bin:/bin"}  # fmt: skip
    return run([sys.executable, "-c", code], env=env)


def test_unknown_backend_fails_the_lambda_cold_start() -> None:
    proc = run_in_lambda_environment("import transform.handler", backend="textblob")
    assert proc.returncode != 0
    assert "ConfigError: SENTIMENT_BACKEND='textblob' is not a known backend" in proc.stderr


def test_lambda_logging_is_json_lines_on_stdout() -> None:
    code = (
        "import base64, json\n"
        "from transform import handler\n"
        "event = {'invocationId': 'i-1', 'records': [{'recordId': 'r', 'data': '%%%'}]}\n"
        "handler.lambda_handler(event, None)\n"
    )
    proc = run_in_lambda_environment(code, backend="vader")
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [(line["level"], line["event"]) for line in lines] == [("WARNING", "records_failed"), ("INFO", "invocation")]
    assert lines[1]["invocation_id"] == "i-1" and lines[1]["failed"] == {"bad_base64": 1}
    assert proc.stderr == ""


def test_summary_carries_the_lambda_request_id(vader: VaderBackend, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="transform"):
        process_event(firehose_event([record_data(envelope())]), FakeContext(30_000), backend=vader)
    (line,) = [json.loads(r.getMessage()) for r in caplog.records if r.levelno == logging.INFO]
    assert line["request_id"] == FakeContext.aws_request_id


def test_response_stays_under_the_lambda_limit(vader: VaderBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given minimal envelopes, whose documents are ~4x bigger than they are, and a limit the documents exceed
    minimal = {"v": 1, "source": "x", "received_at": "2026-11-26T10:00:00Z", "matching_rules": [],
               "tweet": {"id": "1", "text": "ok"}}  # fmt: skip
    datas = [record_data(minimal)] * 20
    datas.append(record_data({"tweet_id": "9", "sentiment_model": "comprehend"}))  # redrive pass-through
    event = firehose_event(datas)
    full = process_event(event, None, backend=vader)
    full_size = len(json.dumps(full))
    monkeypatch.setattr(handler, "MAX_RESPONSE_BYTES", full_size // 2)
    # When the handler runs
    response = process_event(event, None, backend=vader)
    # Then the response fits, the first records are still transformed, the last ones fail with their data
    assert len(json.dumps(response)) <= full_size // 2
    outcome = results(response)
    first_failed = outcome.index("ProcessingFailed")
    assert 0 < first_failed < 20
    assert outcome[first_failed:20] == ["ProcessingFailed"] * (20 - first_failed)
    assert [r["data"] for r in response["records"][first_failed:20]] == datas[first_failed:20]
    assert outcome[20] == "Ok"  # a pass-through does not shrink by failing: left alone


def test_summary_counts_only_what_was_returned_ok(
    vader: VaderBackend, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    datas = [record_data(envelope(text="I love it")), record_data(envelope(text="I love it too"))]
    event = firehose_event(datas)
    monkeypatch.setattr(handler, "MAX_RESPONSE_BYTES", len(json.dumps(process_event(event, None, backend=vader))) - 1)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="transform"):
        response = process_event(event, None, backend=vader)
    assert results(response) == ["Ok", "ProcessingFailed"]
    (summary,) = [json.loads(r.getMessage()) for r in caplog.records if r.levelno == logging.INFO]
    assert summary["sentiment"] == {"POSITIVE": 1}
    assert summary["failed"] == {"response_too_large": 1}
