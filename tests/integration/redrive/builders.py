"""Builders for failed-record objects written the way Firehose writes them (GZIP, one JSON object per line)."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

ARRIVAL = 1764151200000  # 2026-11-26T10:00:00Z in ms


def envelope(i: int, source: str = "x") -> bytes:
    return json.dumps(
        {"v": 1, "source": source, "received_at": "2026-11-26T10:00:00.000Z",
         "matching_rules": [{"id": "1", "tag": "aws"}],
         "tweet": {"id": f"17{i:08d}", "text": f"tweet number {i} #aws", "created_at": "2026-11-26T09:59:59.000Z",
                   "lang": "en", "author_id": "42"},
         "author": {"id": "42", "username": "someone", "name": "Some One", "followers_count": 7}},
        separators=(",", ":"),
    ).encode()  # fmt: skip


def document(i: int) -> bytes:
    return json.dumps(
        {"tweet_id": f"18{i:08d}", "created_at": "2026-11-26T09:59:59.000Z", "received_at": "2026-11-26T10:00:00.000Z",
         "processed_at": "2026-11-26T10:00:01.000Z", "text": f"document {i}", "lang": "en",
         "author": {"id": "42", "username": "someone", "name": "Some One", "followers_count": 7},
         "hashtags": ["aws"], "mentions": [], "is_retweet": False, "is_reply": False, "is_quote": False,
         "metrics": {"retweet_count": 0, "reply_count": 0, "like_count": 1, "quote_count": 0}, "rules": ["aws"],
         "source": "x", "sentiment": "NEUTRAL", "sentiment_skipped": None,
         "sentiment_score": {"positive": 0.1, "negative": 0.1, "neutral": 0.8, "mixed": 0.0},
         "sentiment_model": "vader-3.3.2"},
        separators=(",", ":"),
    ).encode()  # fmt: skip


def processing_failed_line(data: bytes, code: str = "Lambda.ProcessingFailed") -> dict[str, Any]:
    """Documented format of processing-failed/ records (Firehose data-transformation failure handling)."""
    return {"attemptsMade": 1, "arrivalTimestamp": ARRIVAL, "errorCode": code,
            "errorMessage": "The Lambda function returned ProcessingFailed for this record.",
            "attemptEndingTimestamp": ARRIVAL + 2000, "rawData": base64.b64encode(data).decode(),
            "lambdaArn": "arn:aws:lambda:us-east-1:123456789012:function:tweets-transform:$LATEST"}  # fmt: skip


def opensearch_failed_line(data: bytes, code: str = "400") -> dict[str, Any]:
    """Documented format of AmazonOpenSearchService-failed/ records (Firehose delivery failure handling)."""
    return {"attemptsMade": 1, "arrivalTimestamp": ARRIVAL, "errorCode": code,
            "errorMessage": '{"type":"mapper_parsing_exception","reason":"failed to parse field [created_at]"}',
            "attemptEndingTimestamp": ARRIVAL + 3000, "esDocumentId": "49656", "esIndexName": "tweets-2026-11-26",
            "esTypeName": "", "rawData": base64.b64encode(data).decode()}  # fmt: skip


def failed_object(lines: list[dict[str, Any]], *, gzipped: bool = True) -> bytes:
    body = "".join(json.dumps(line) + "\n" for line in lines).encode()
    return gzip.compress(body) if gzipped else body


def split_concatenated(blob: bytes) -> list[Any]:
    """Firehose's S3 destination concatenates records without a delimiter: split JSON objects back out."""
    text, decoder, pos, out = blob.decode(), json.JSONDecoder(), 0, []
    while pos < len(text):
        obj, pos = decoder.raw_decode(text, pos)
        out.append(obj)
    return out
