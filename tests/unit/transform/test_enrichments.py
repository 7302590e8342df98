"""Optional Comprehend enrichments: setting, parsing, shared batching/retry/deadline, handler, real API shapes."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from transform.enrichments import MAX_ITEMS, Enricher, parse_entities, parse_key_phrases
from transform.handler import build_enricher, process_event
from transform.sentiment import Deadline, Failed, ScoreRequest
from transform.sentiment.comprehend import ComprehendBatcher
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


def enricher(stub: Any, *enabled: Any, **options: Any) -> Enricher:
    batcher = ComprehendBatcher(stub, **{"concurrency": 4, "base_backoff": 0.005, "max_backoff": 0.02, **options})
    return Enricher(enabled or ("entities", "key_phrases"), batcher)


# --- the setting ------------------------------------------------------------------------------------------------


def test_enrichments_are_off_by_default_and_parsed_from_a_comma_list() -> None:
    assert Settings().enrichments == ()
    assert build_enricher(Settings()) is None
    settings = Settings.from_env({"ENRICHMENTS": " Key_Phrases, entities,,key_phrases "})
    assert settings.enrichments == ("key_phrases", "entities")
    built = build_enricher(settings)
    assert built is not None and built.enabled == ("key_phrases", "entities")
    assert Settings.from_env({"ENRICHMENTS": ""}).enrichments == ()


@pytest.mark.parametrize("raw", ["entities,pii", "sentiment", "syntax,key_phrases"])
def test_unknown_enrichment_fails_the_cold_start_naming_the_variable(raw: str) -> None:
    with pytest.raises(ConfigError, match=r"ENRICHMENTS=.*expected a comma-separated subset of entities, key_phrases"):
        Settings.from_env({"ENRICHMENTS": raw})


# --- parsing one result -----------------------------------------------------------------------------------------


def test_entities_are_kept_once_per_type_and_text_with_the_highest_score() -> None:
    item = {
        "Index": 0,
        "Entities": [
            {"Score": 0.5, "Type": "ORGANIZATION", "Text": "AWS"},
            {"Score": 0.9, "Type": "ORGANIZATION", "Text": "aws "},
            {"Score": 0.7, "Type": "LOCATION", "Text": "AWS"},
            {"Type": "PERSON", "Text": "Jeff"},  # no score: kept, null
            {"Score": 0.9, "Type": "DATE", "Text": "  "},  # blank: dropped
            "not an object",
        ],
    }
    assert parse_entities(item) == [
        {"type": "ORGANIZATION", "text": "AWS", "score": 0.9},
        {"type": "LOCATION", "text": "AWS", "score": 0.7},
        {"type": "PERSON", "text": "Jeff", "score": None},
    ]
    assert parse_entities({"Index": 0}) is None  # unusable result: the item fails with enrichment_error


def test_key_phrases_are_lower_cased_once_each_and_capped() -> None:
    item = {"KeyPhrases": [{"Text": "The new  console"}, {"Text": "the new console"}, {"Text": "Lambda"}, {"x": 1}]}
    assert parse_key_phrases(item) == ["the new console", "lambda"]
    many = {"KeyPhrases": [{"Text": f"phrase {i}"} for i in range(MAX_ITEMS + 10)]}
    assert len(parse_key_phrases(many) or []) == MAX_ITEMS
    assert parse_key_phrases({"KeyPhrases": "no list"}) is None


# --- the shared machinery ---------------------------------------------------------------------------------------


def test_each_enrichment_is_chunked_by_25_per_language_and_keeps_request_order() -> None:
    stub = StubComprehend()
    requests = [ScoreRequest(f"Hello World number {i}", "en") for i in range(30)]
    requests += [ScoreRequest("Hola Madrid", "es"), ScoreRequest("Hallo", "nl")]
    results = enricher(stub).enrich(requests, Deadline(30))
    # 30 en texts -> 2 chunks, 1 es chunk, nl unsupported: 3 calls per operation
    assert sorted(stub.operations) == ["entities"] * 3 + ["key_phrases"] * 3
    assert all(len(texts) <= 25 for _, texts in stub.calls)
    first = results[0]
    assert isinstance(first, dict)
    assert first["comprehend_entities"] == [
        {"type": "ORGANIZATION", "text": "Hello", "score": 0.9},
        {"type": "ORGANIZATION", "text": "World", "score": 0.9},
    ]
    assert first["key_phrases"] == ["hello", "world", "number"]
    assert results[30] == {
        "comprehend_entities": [
            {"type": "ORGANIZATION", "text": "Hola", "score": 0.9},
            {"type": "ORGANIZATION", "text": "Madrid", "score": 0.9},
        ],
        "key_phrases": ["hola", "madrid"],
    }
    assert results[31] == {"comprehend_entities": None, "key_phrases": None}  # unsupported language: not run


def test_only_the_enabled_enrichment_is_called() -> None:
    stub = StubComprehend()
    (result,) = enricher(stub, "key_phrases").enrich([ScoreRequest("Serverless rocks", "en")], Deadline(5))
    assert stub.operations == ["key_phrases"]
    assert result == {"comprehend_entities": None, "key_phrases": ["serverless", "rocks"]}


def test_throttling_is_retried_with_the_sentiment_backoff() -> None:
    stub = StubComprehend(throttle=lambda n, _lang: n <= 2)
    entities = enricher(stub, "entities")
    (result,) = entities.enrich([ScoreRequest("Hello AWS", "en")], Deadline(10))
    assert (entities.api_calls, entities.api_throttles) == (3, 2)
    assert stub.operations == ["entities"] * 3
    assert isinstance(result, dict) and [e["text"] for e in result["comprehend_entities"]] == ["Hello", "AWS"]


def test_an_item_that_keeps_failing_is_enrichment_error_and_skips_the_next_billed_call() -> None:
    stub = StubComprehend(item_errors={"Broken text": -1})
    results = enricher(stub, max_item_retries=1).enrich(
        [ScoreRequest("Broken text", "en"), ScoreRequest("Fine text", "en")], Deadline(10)
    )
    assert results[0] == Failed("enrichment_error")
    assert isinstance(results[1], dict) and results[1]["key_phrases"] == ["fine", "text"]
    key_phrase_texts = [t for op, (_, texts) in zip(stub.operations, stub.calls, strict=True) if op == "key_phrases"
                        for t in texts]  # fmt: skip
    assert key_phrase_texts == ["Fine text"]  # the lost record is not sent to key phrases


def test_the_deadline_bounds_enrichments_like_sentiment() -> None:
    stub = StubComprehend(throttle=lambda _n, _lang: True)  # throttled for ever
    results = enricher(stub, base_backoff=0.05, max_backoff=0.05).enrich([ScoreRequest("Hi", "en")], Deadline(0.2))
    assert results == [Failed("enrichment_timeout")]


def test_access_denied_is_enrichment_error_not_a_crash() -> None:
    results = enricher(StubComprehend(raise_code="AccessDeniedException")).enrich(
        [ScoreRequest("Hi", "en")], Deadline(5)
    )
    assert results == [Failed("enrichment_error")]


# --- through the handler ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def vader() -> VaderBackend:
    return VaderBackend()


def test_documents_carry_the_enrichments_and_stay_valid(vader: VaderBackend) -> None:
    stub = StubComprehend()
    datas = [record_data(envelope(text="Loving Amazon Comprehend today")) for _ in range(3)]  # one unique text
    datas.append(record_data(envelope(text="Hallo Welt", lang="nl")))
    response = process_event(firehose_event(datas), None, backend=vader, enricher=enricher(stub))
    docs = [decode(r["data"]) for r in response["records"]]
    for document in docs:
        assert_valid_document(document)
    assert [e["text"] for e in docs[0]["comprehend_entities"]] == ["Loving", "Amazon", "Comprehend"]
    assert docs[0]["key_phrases"] == ["loving", "amazon", "comprehend", "today"]
    assert (docs[3]["comprehend_entities"], docs[3]["key_phrases"]) == (None, None)
    assert stub.operations == ["entities", "key_phrases"]  # the duplicates were deduplicated: one call each


def test_without_enrichments_the_fields_are_null(vader: VaderBackend) -> None:
    response = process_event(firehose_event([record_data(envelope())]), None, backend=vader)
    (document,) = [decode(r["data"]) for r in response["records"]]
    assert_valid_document(document)
    assert (document["comprehend_entities"], document["key_phrases"]) == (None, None)


def test_a_record_an_enrichment_fails_is_processing_failed_with_its_reason(vader: VaderBackend) -> None:
    stub = StubComprehend(item_errors={"Broken text": -1})
    datas = [record_data(envelope(text="Broken text")), record_data(envelope(text="Fine text"))]
    response = process_event(firehose_event(datas), None, backend=vader, enricher=enricher(stub, max_item_retries=0))
    assert [r["result"] for r in response["records"]] == ["ProcessingFailed", "Ok"]
    assert response["records"][0]["data"] == datas[0]  # kept as it came, for redrive


def test_an_enricher_that_breaks_as_a_whole_keeps_the_records_for_redrive(vader: VaderBackend) -> None:
    class Broken(Enricher):
        def enrich(self, requests: Any, deadline: Deadline) -> Any:
            raise RuntimeError("bug")

    broken = Broken(("entities",), ComprehendBatcher(StubComprehend()))
    response = process_event(firehose_event([record_data(envelope())]), None, backend=vader, enricher=broken)
    assert [r["result"] for r in response["records"]] == ["ProcessingFailed"]


# --- the real API's shapes (botocore validates requests and responses against the service model) -----------------


def test_the_operations_call_the_real_apis_with_valid_requests_and_read_their_responses() -> None:
    client = boto3.client("comprehend", region_name="us-east-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing")  # fmt: skip
    texts = ["Amazon opened an office in Berlin", "nothing here"]
    with Stubber(client) as stubber:
        stubber.add_response(
            "batch_detect_entities",
            {
                "ResultList": [
                    {
                        "Index": 0,
                        "Entities": [
                            {"Score": 0.99, "Type": "ORGANIZATION", "Text": "Amazon", "BeginOffset": 0, "EndOffset": 6},
                            {"Score": 0.98, "Type": "LOCATION", "Text": "Berlin", "BeginOffset": 27, "EndOffset": 33},
                        ],
                    },
                    {"Index": 1, "Entities": []},
                ],
                "ErrorList": [],
            },
            {"TextList": texts, "LanguageCode": "en"},
        )
        stubber.add_response(
            "batch_detect_key_phrases",
            {
                "ResultList": [
                    {
                        "Index": 0,
                        "KeyPhrases": [{"Score": 0.9, "Text": "an office", "BeginOffset": 15, "EndOffset": 24}],
                    },
                    {"Index": 1, "KeyPhrases": []},
                ],
                "ErrorList": [],
            },
            {"TextList": texts, "LanguageCode": "en"},
        )
        results = enricher(client).enrich([ScoreRequest(text, "en") for text in texts], Deadline(10))
        stubber.assert_no_pending_responses()
    assert results == [
        {
            "comprehend_entities": [
                {"type": "ORGANIZATION", "text": "Amazon", "score": 0.99},
                {"type": "LOCATION", "text": "Berlin", "score": 0.98},
            ],
            "key_phrases": ["an office"],
        },
        {"comprehend_entities": [], "key_phrases": []},  # ran, found nothing: [] (not null)
    ]
