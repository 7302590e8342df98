"""Firehose record codec: base64 → UTF-8 → JSON → envelope v1 or (redrive) document, and back.

Every way a record can be unreadable maps to one reason code (:data:`Reason`), which the handler logs
(aggregated, never the data) when it returns the record ProcessingFailed with its original data.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any, Literal

Reason = Literal[
    "missing_data",  # the Firehose record has no base64 string in "data"
    "bad_base64",
    "not_utf8",
    "invalid_json",  # includes truncated JSON and nesting too deep to parse
    "not_an_object",  # valid JSON, but not a JSON object
    "not_an_envelope",  # an object without "v" that is not a document either
    "unknown_version",  # "v" is present but not 1
    "missing_tweet_id",  # a redriven document whose tweet_id is not a non-empty string (see classify)
    "id_too_long",  # the post id is over MAX_ID_BYTES in UTF-8: OpenSearch refuses such an _id
    "invalid_envelope",  # a required envelope field is missing or has the wrong type
    "text_too_long",  # longer than MAX_TEXT_CHARS (document.py)
    "sentiment_error",  # the backend failed this record after retries
    "sentiment_timeout",  # the invocation ran out of time before this record was scored
    "enrichment_error",  # an enabled Comprehend enrichment (ENRICHMENTS) failed this record after retries
    "enrichment_timeout",  # the invocation ran out of time before this record was enriched
    "response_too_large",  # the documents would push the response past Lambda's 6 MB limit (handler.py)
    "internal_error",  # a bug: logged with its traceback, the record kept for redrive
]

Kind = Literal["envelope", "document"]

#: OpenSearch refuses a document ``_id`` over 512 bytes, and the index's ingest pipeline makes the post id the
#: ``_id``. The ingester refuses such a post at intake (``ingester.envelope.MAX_ID_BYTES``, the same limit: the zip
#: cannot import the ingester, a test checks the two agree); a redriven record or another producer can still bring
#: one, and OpenSearch's refusal would only reach the failed prefix after Firehose's whole retry window.
MAX_ID_BYTES = 512

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class DecodeError(Exception):
    """The record cannot be read; ``reason`` is the code the handler reports."""

    def __init__(self, reason: Reason, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason: Reason = reason


@dataclass(frozen=True)
class Decoded:
    kind: Kind
    value: dict[str, Any]


def check_id_length(tweet_id: str) -> str:
    """``tweet_id`` itself; raises DecodeError(id_too_long) when OpenSearch would refuse it as an ``_id``."""
    size = len(tweet_id.encode("utf-8", "surrogatepass"))
    if size > MAX_ID_BYTES:
        raise DecodeError("id_too_long", f"{size} bytes")
    return tweet_id


def decode_data(data: object) -> dict[str, Any]:
    """The JSON object carried by a Firehose record's base64 ``data``."""
    if not isinstance(data, str):
        raise DecodeError("missing_data", type(data).__name__)
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DecodeError("bad_base64", str(exc)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DecodeError("not_utf8", f"byte {exc.start}") from None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise DecodeError("invalid_json", type(exc).__name__) from None
    if not isinstance(value, dict):
        raise DecodeError("not_an_object", type(value).__name__)
    return value


def is_document(value: dict[str, Any]) -> bool:
    """A document this Lambda emitted earlier (put back by the redrive tool): no "v", has tweet_id and model."""
    return "v" not in value and "tweet_id" in value and "sentiment_model" in value


def classify(value: dict[str, Any]) -> Kind:
    """Envelope v1 or redriven document; anything else raises DecodeError."""
    if "v" in value:
        version = value["v"]
        if type(version) is int and version == 1:
            return "envelope"
        raise DecodeError("unknown_version", repr(version)[:40])
    if is_document(value):
        # The index's ingest pipeline refuses a document without tweet_id (its `fail` processor: HTTP 500, which
        # Firehose retries for its whole retry window before the record reaches the failed prefix). Refused here
        # instead, it goes there at once, as ProcessingFailed.
        tweet_id = value["tweet_id"]
        if not isinstance(tweet_id, str) or not tweet_id.strip():
            raise DecodeError("missing_tweet_id", type(tweet_id).__name__)
        check_id_length(tweet_id)
        return "document"
    raise DecodeError("not_an_envelope")


def decode_record(data: object) -> Decoded:
    value = decode_data(data)
    return Decoded(classify(value), value)


def encode_document(document: dict[str, Any]) -> str:
    """Single-line compact UTF-8 JSON, base64-encoded (no trailing newline: one document per record).

    A lone UTF-16 surrogate (JSON allows "\\ud800"; UTF-8 cannot carry it) becomes U+FFFD.
    """
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError:
        raw = _LONE_SURROGATE.sub("\ufffd", text).encode("utf-8")
    return base64.b64encode(raw).decode("ascii")


def decode_document(data: str) -> dict[str, Any]:
    """Inverse of :func:`encode_document` (tests and tools)."""
    value = json.loads(base64.b64decode(data, validate=True).decode("utf-8"))
    if not isinstance(value, dict):
        raise DecodeError("not_an_object", type(value).__name__)
    return value


def sanitise(text: str) -> str:
    """``text`` with lone surrogates replaced by U+FFFD, so it can be UTF-8 encoded (and sent to Comprehend)."""
    return _LONE_SURROGATE.sub("\ufffd", text)
