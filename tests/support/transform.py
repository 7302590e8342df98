"""Helpers for the transform tests: envelopes, Firehose events, a stub Comprehend client, the schema."""

from __future__ import annotations

import base64
import copy
import json
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any

import jsonschema
from botocore.exceptions import ClientError

from tests.support.paths import SCHEMAS_DIR

DOCUMENT_SCHEMA = json.loads((SCHEMAS_DIR / "document.schema.json").read_text())
ENVELOPE_SCHEMA = json.loads((SCHEMAS_DIR / "envelope.schema.json").read_text())
DOCUMENT_VALIDATOR = jsonschema.Draft202012Validator(
    DOCUMENT_SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)
ENVELOPE_VALIDATOR = jsonschema.Draft202012Validator(
    ENVELOPE_SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)

BASE_ENVELOPE: dict[str, Any] = {
    "v": 1,
    "source": "x",
    "received_at": "2026-11-26T10:00:00.123Z",
    "matching_rules": [{"id": "1", "tag": "aws"}],
    "tweet": {
        "id": "1861000000000000001",
        "text": "I love the new #AWS console, thanks @awscloud!",
        "created_at": "2026-11-26T09:59:58.000Z",
        "lang": "en",
        "author_id": "42",
        "entities": {
            "hashtags": [{"start": 15, "end": 19, "tag": "AWS"}],
            "mentions": [{"start": 36, "end": 45, "username": "awscloud", "id": "7"}],
            "annotations": [
                {"start": 16, "end": 18, "probability": 0.8123, "type": "Organization", "normalized_text": "AWS"}
            ],
        },
        "context_annotations": [
            {
                "domain": {"id": "47", "name": "Brand", "description": "Brands and Companies"},
                "entity": {"id": "10026378521", "name": "Amazon"},
            },
            {
                "domain": {"id": "131", "name": "Unified Twitter Taxonomy"},
                "entity": {"id": "848920371311001600", "name": "Technology"},
            },
        ],
        "public_metrics": {"retweet_count": 1, "reply_count": 2, "like_count": 3, "quote_count": 4},
    },
    "author": {"id": "42", "username": "alice", "name": "Alice", "followers_count": 100},
}


def envelope(text: str | None = None, lang: str | None = None, **tweet_fields: Any) -> dict[str, Any]:
    """A valid envelope v1; ``text``/``lang``/tweet fields override the base tweet (entities dropped with text)."""
    env = copy.deepcopy(BASE_ENVELOPE)
    if text is not None:
        env["tweet"]["text"] = text
        env["tweet"].pop("entities")
    if lang is not None:
        env["tweet"]["lang"] = lang
    env["tweet"].update(tweet_fields)
    return env


def b64(raw: bytes | str) -> str:
    return base64.b64encode(raw.encode("utf-8") if isinstance(raw, str) else raw).decode("ascii")


def record_data(value: Any) -> str:
    return b64(json.dumps(value, ensure_ascii=False))


def firehose_event(datas: list[str], invocation_id: str = "inv-1") -> dict[str, Any]:
    return {
        "invocationId": invocation_id,
        "deliveryStreamArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/tweets",
        "region": "us-east-1",
        "records": [
            {"recordId": f"rec-{i:05d}", "approximateArrivalTimestamp": 1764151200000 + i, "data": data}
            for i, data in enumerate(datas)
        ],
    }


def decode(data: str) -> dict[str, Any]:
    value = json.loads(base64.b64decode(data).decode("utf-8"))
    assert isinstance(value, dict)
    return value


def assert_valid_document(document: Mapping[str, Any]) -> None:
    errors = sorted(DOCUMENT_VALIDATOR.iter_errors(document), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


class FakeContext:
    aws_request_id = "00000000-0000-4000-8000-000000000000"

    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def client_error(code: str, operation: str = "BatchDetectSentiment") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"stub {code}"}}, operation)


def label_for(text: str) -> str:
    lowered = text.lower()
    if "good" in lowered and "bad" in lowered:
        return "MIXED"
    if any(word in lowered for word in ("good", "love", "great")):
        return "POSITIVE"
    if any(word in lowered for word in ("bad", "hate", "worst")):
        return "NEGATIVE"
    return "NEUTRAL"


def sentiment_result(text: str) -> dict[str, Any]:
    label = label_for(text)
    score = {"Positive": 0.01, "Negative": 0.01, "Neutral": 0.01, "Mixed": 0.01}
    score[label.capitalize()] = 0.97
    return {"Sentiment": label, "SentimentScore": score}


def entities_result(text: str) -> dict[str, Any]:
    """Every capitalised word is an ORGANIZATION (score 0.9), the way the stub's model sees the world."""
    return {
        "Entities": [
            {"Score": 0.9, "Type": "ORGANIZATION", "Text": m.group(0), "BeginOffset": m.start(), "EndOffset": m.end()}
            for m in re.finditer(r"\b[A-Z]\w+", text)
        ]
    }


def key_phrases_result(text: str) -> dict[str, Any]:
    """Every word of four letters or more is a key phrase (score 0.8)."""
    return {
        "KeyPhrases": [
            {"Score": 0.8, "Text": m.group(0), "BeginOffset": m.start(), "EndOffset": m.end()}
            for m in re.finditer(r"\w{4,}", text)
        ]
    }


class StubComprehend:
    """BatchDetectSentiment, BatchDetectEntities and BatchDetectKeyPhrases as the real API behaves, minus the model.

    Every operation enforces the API's limits (25 documents, 5,000 UTF-8 bytes each, supported languages), can throttle
    (``throttle(call_number, language) -> bool``) and can report chosen texts in ErrorList
    (``item_errors[text]`` = how many calls fail that text; a negative count fails it forever).
    """

    LANGUAGES = frozenset({"en", "es", "fr", "de", "it", "pt", "ar", "hi", "ja", "ko", "zh", "zh-TW"})

    def __init__(
        self,
        *,
        throttle: Callable[[int, str], bool] | None = None,
        item_errors: dict[str, int] | None = None,
        raise_code: str | None = None,
    ) -> None:
        self.calls: list[tuple[str, list[str]]] = []
        self.operations: list[str] = []  # "sentiment", "entities" or "key_phrases", one per call
        self.throttle = throttle or (lambda _n, _lang: False)
        self.item_errors = dict(item_errors or {})
        self.raise_code = raise_code
        self._lock = threading.Lock()

    def batch_detect_sentiment(self, *, TextList: list[str], LanguageCode: str) -> dict[str, Any]:
        return self._batch("sentiment", TextList, LanguageCode, sentiment_result)

    def batch_detect_entities(self, *, TextList: list[str], LanguageCode: str) -> dict[str, Any]:
        return self._batch("entities", TextList, LanguageCode, entities_result)

    def batch_detect_key_phrases(self, *, TextList: list[str], LanguageCode: str) -> dict[str, Any]:
        return self._batch("key_phrases", TextList, LanguageCode, key_phrases_result)

    def _batch(
        self, operation: str, TextList: list[str], LanguageCode: str, result: Callable[[str], dict[str, Any]]
    ) -> dict[str, Any]:
        with self._lock:
            self.calls.append((LanguageCode, list(TextList)))
            self.operations.append(operation)
            call_number = len(self.calls)
            if self.raise_code:
                raise client_error(self.raise_code)
            if len(TextList) > 25 or not TextList:
                raise client_error("BatchSizeLimitExceededException")
            if LanguageCode not in self.LANGUAGES:
                raise client_error("UnsupportedLanguageException")
            if self.throttle(call_number, LanguageCode):
                raise client_error("ThrottlingException")
            results, errors = [], []
            for index, text in enumerate(TextList):
                if len(text.encode("utf-8")) > 5000:
                    errors.append({"Index": index, "ErrorCode": "TEXT_SIZE_LIMIT_EXCEEDED", "ErrorMessage": "too big"})
                    continue
                remaining = self.item_errors.get(text, 0)
                if remaining != 0:
                    self.item_errors[text] = remaining - 1
                    errors.append({"Index": index, "ErrorCode": "INTERNAL_SERVER_ERROR", "ErrorMessage": "stub"})
                    continue
                results.append({"Index": index, **result(text)})
            return {"ResultList": results, "ErrorList": errors}

    @property
    def texts_sent(self) -> list[str]:
        return [text for _, texts in self.calls for text in texts]


CLEAR_TEXTS: list[tuple[str, str]] = [
    ("I love this, it is great!", "POSITIVE"),
    ("This is terrible and I hate it.", "NEGATIVE"),
    ("The meeting is at 5 pm.", "NEUTRAL"),
    ("@a https://t.co/x", "NEUTRAL"),
]
"""(text, label) that every embedded backend (vader, embedded) must label so."""
