"""Record codec: every way a record can be unreadable has its own reason code."""

from __future__ import annotations

import base64
import json

import pytest
from transform.codec import MAX_ID_BYTES, DecodeError, decode_document, decode_record, encode_document, sanitise
from transform.document import build_draft

from tests.support.transform import b64, envelope, record_data


def test_envelope_round_trip() -> None:
    decoded = decode_record(record_data(envelope()))
    assert decoded.kind == "envelope"
    assert decoded.value["tweet"]["id"] == "1861000000000000001"


def test_document_is_recognised_for_redrive() -> None:
    decoded = decode_record(record_data({"tweet_id": "1", "sentiment_model": "comprehend", "text": "x"}))
    assert decoded.kind == "document"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (None, "missing_data"),
        (123, "missing_data"),
        ("not base64!", "bad_base64"),
        ("YWJ", "bad_base64"),  # incomplete quantum
        (b64(b"\xff\xfe{}"), "not_utf8"),
        (b64('{"v": 1, "tweet": {"te'), "invalid_json"),  # truncated
        (b64(""), "invalid_json"),
        (b64("[" * 100_000 + "]" * 100_000), "invalid_json"),  # too deep for the parser
        (b64("[1, 2]"), "not_an_object"),
        (b64('"just a string"'), "not_an_object"),
        (b64('{"hello": "world"}'), "not_an_envelope"),
        (b64('{"tweet_id": "1"}'), "not_an_envelope"),  # half a document
        (b64('{"v": 2, "tweet": {}}'), "unknown_version"),
        (b64('{"v": "1"}'), "unknown_version"),
        (b64('{"v": true}'), "unknown_version"),  # True == 1 in Python; not in the contract
        (b64('{"v": null, "tweet_id": "1", "sentiment_model": "x"}'), "unknown_version"),
        # a redriven document the ingest pipeline's fail processor would refuse with a 500, retried by Firehose
        (b64('{"tweet_id": null, "sentiment_model": "x"}'), "missing_tweet_id"),
        (b64('{"tweet_id": "", "sentiment_model": "x"}'), "missing_tweet_id"),
        (b64('{"tweet_id": "  ", "sentiment_model": "x"}'), "missing_tweet_id"),
        (b64('{"tweet_id": 17, "sentiment_model": "x"}'), "missing_tweet_id"),
        # an _id OpenSearch refuses (over 512 bytes): 171 three-byte characters are 513 bytes
        (b64(json.dumps({"tweet_id": "€" * 171, "sentiment_model": "x"}, ensure_ascii=False)), "id_too_long"),
    ],
)
def test_unreadable_records_raise_their_reason(data: object, reason: str) -> None:
    with pytest.raises(DecodeError) as info:
        decode_record(data)
    assert info.value.reason == reason


def test_encode_is_single_line_compact_utf8_without_trailing_newline() -> None:
    document = {"text": "línea uno\nlínea dos 😀", "n": 1}
    raw = base64.b64decode(encode_document(document))
    assert b"\n" not in raw  # the newline inside the text is escaped, none is appended
    assert raw.decode("utf-8") == '{"text":"línea uno\\nlínea dos 😀","n":1}'
    assert decode_document(encode_document(document)) == document


def test_lone_surrogates_become_replacement_characters() -> None:
    value = json.loads('{"text": "bad \\ud800 pair"}')
    raw = base64.b64decode(encode_document(value)).decode("utf-8")
    assert json.loads(raw)["text"] == "bad \ufffd pair"
    assert sanitise("ok \udfff") == "ok \ufffd"


def test_the_id_limit_is_the_ingesters() -> None:
    # The zip cannot import the ingester: the two copies of OpenSearch's _id limit must agree.
    from ingester.envelope import MAX_ID_BYTES as INGESTER_LIMIT

    assert MAX_ID_BYTES == INGESTER_LIMIT == 512


@pytest.mark.parametrize(
    ("tweet_id", "ok"), [("1" * 512, True), ("1" * 513, False), ("€" * 170, True), ("€" * 171, False)]
)
def test_envelopes_with_an_id_opensearch_would_refuse_are_refused(tweet_id: str, ok: bool) -> None:
    given = {"v": 1, "source": "x", "received_at": "2026-11-26T10:00:00.000Z", "matching_rules": [],
             "tweet": {"id": tweet_id, "text": "hello"}}  # fmt: skip
    if ok:
        assert build_draft(given, "2026-11-26T10:00:01.000Z").document["tweet_id"] == tweet_id
    else:
        with pytest.raises(DecodeError) as info:
            build_draft(given, "2026-11-26T10:00:01.000Z")
        assert info.value.reason == "id_too_long"
