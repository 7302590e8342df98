"""Envelope v1: built from X stream messages and replay lines; validated against the shared schema."""

from __future__ import annotations

import json

import jsonschema
import pytest

from ingester.envelope import MalformedMessage, encode, from_replay_line, from_stream_message
from tests.support.ingester import stream_message
from tests.support.paths import SCHEMAS_DIR

SCHEMA = json.loads((SCHEMAS_DIR / "envelope.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())


def test_stream_message_becomes_a_valid_envelope() -> None:
    env = from_stream_message(stream_message(3), source="x")
    VALIDATOR.validate(json.loads(encode(env)))
    assert env["source"] == "x"
    assert env["tweet"]["id"] == "1000003"
    assert env["author"] == {"id": "503", "username": "user3", "name": "User 3", "followers_count": 30}
    assert env["matching_rules"] == [{"id": "1790000000000000001", "tag": "aws"}]
    assert env["received_at"].endswith("Z")


def test_x_annotations_and_topics_travel_in_the_envelope_unchanged() -> None:
    # Given a stream message X annotated (the fields the source asks for include context_annotations)
    msg = stream_message(3)
    annotation = {"start": 20, "end": 22, "probability": 0.73, "type": "Organization", "normalized_text": "AWS"}
    topic = {"domain": {"id": "47", "name": "Brand"}, "entity": {"id": "10026378521", "name": "Amazon"}}
    msg["data"]["entities"]["annotations"] = [annotation]
    msg["data"]["context_annotations"] = [topic]
    # When it becomes an envelope and is replayed from its encoded line
    env = from_replay_line(encode(from_stream_message(msg, source="x")))
    # Then both are there as X sent them, and the envelope is still valid
    VALIDATOR.validate(env)
    assert env["tweet"]["entities"]["annotations"] == [annotation]
    assert env["tweet"]["context_annotations"] == [topic]


def test_author_missing_from_includes_is_null() -> None:
    msg = stream_message(1)
    msg["includes"] = {"users": []}
    env = from_stream_message(msg, source="x")
    assert env["author"] is None
    VALIDATOR.validate(env)


def test_replay_of_envelope_keeps_its_source() -> None:
    original = from_stream_message(stream_message(1), source="x")
    env = from_replay_line(encode(original))
    assert env["source"] == "x"
    assert env["received_at"] == original["received_at"]
    VALIDATOR.validate(env)


def test_replay_of_raw_message_is_source_replay() -> None:
    env = from_replay_line(json.dumps(stream_message(1)))
    assert env["source"] == "replay"
    VALIDATOR.validate(env)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b'{"data": {"id": "1", "text": "x"', "invalid_json"),
        (b'{"data": {"id": "1", "text": "x", "deep": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}", "invalid_json"),
        (b"\xff\xfe not utf8", "not_utf8"),
        (b"[1, 2]", "not_an_object"),
        (b'{"hello": 1}', "unknown_shape"),
        (b'{"data": {"text": "no id"}}', "missing_tweet_id"),
        (b'{"data": {"id": "%s", "text": "x"}}' % (b"1" * 2000), "id_too_long"),
        (b'{"data": {"id": "%s", "text": "x"}}' % (b"1" * 513), "id_too_long"),
        (b'{"v": 1, "tweet": {"id": "%s", "text": "x"}}' % ("é" * 257).encode(), "id_too_long"),
        (b'{"data": {"id": "1"}}', "missing_text"),
        (b'{"data": "x"}', "bad_data"),
        (b'{"errors": [{"title": "operational-disconnect"}]}', "stream_error_payload"),
        (b'{"v": 2, "tweet": {"id": "1", "text": "x"}}', "unsupported_version"),
        (b'{"v": 1, "tweet": {"id": "1", "text": "x"}, "matching_rules": "aws"}', "bad_matching_rules"),
    ],
)
def test_malformed_lines_have_a_reason(line: bytes, reason: str) -> None:
    with pytest.raises(MalformedMessage) as info:
        from_replay_line(line)
    assert info.value.reason == reason


def test_an_id_of_512_bytes_is_accepted() -> None:
    assert from_replay_line(b'{"data": {"id": "%s", "text": "x"}}' % (b"1" * 512))["tweet"]["id"] == "1" * 512


def test_encoding_is_single_line_utf8_even_for_odd_text() -> None:
    env = from_stream_message(stream_message(1, text="line one\nline two \u2028 é 🎉"), source="x")
    data = encode(env)
    assert b"\n" not in data
    assert json.loads(data)["tweet"]["text"] == "line one\nline two \u2028 é 🎉"
    lone = from_stream_message(stream_message(2, text="broken \ud800 surrogate"), source="x")
    data = encode(lone)
    assert json.loads(data)["tweet"]["text"] == "broken \ud800 surrogate"
    VALIDATOR.validate(json.loads(data))


def test_numeric_tweet_id_is_normalised_to_string() -> None:
    msg = stream_message(1)
    msg["data"]["id"] = 1234
    env = from_stream_message(msg, source="x")
    assert env["tweet"]["id"] == "1234"
    VALIDATOR.validate(env)
