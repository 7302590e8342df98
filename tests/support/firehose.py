"""Firehose test doubles: failed-record objects as Firehose writes them (GZIP, one JSON object per line), the
records they carry, and a scripted client for the component's put and the tools built on it (redrive)."""

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


class ScriptedFirehose:
    """put_record_batch answers from a script: each call fails the entries whose payload is in ``fail[call]``."""

    def __init__(self, fail: list[set[bytes]]) -> None:
        self.fail = fail
        self.calls: list[list[bytes]] = []

    def describe_delivery_stream(self, DeliveryStreamName: str) -> dict[str, Any]:
        return {"DeliveryStreamDescription": {"DeliveryStreamStatus": "ACTIVE"}}

    def put_record_batch(self, DeliveryStreamName: str, Records: list[dict[str, bytes]]) -> dict[str, Any]:
        failing = self.fail[len(self.calls)] if len(self.calls) < len(self.fail) else set()
        self.calls.append([r["Data"] for r in Records])
        responses = [
            {"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "Slow down."}
            if r["Data"] in failing
            else {"RecordId": "id"}
            for r in Records
        ]
        return {"FailedPutCount": sum("ErrorCode" in x for x in responses), "RequestResponses": responses}


def make_stream(name: str, bucket: str) -> None:
    """A DirectPut stream in the emulator delivering to a new S3 bucket (moto writes each batch there at once)."""
    import boto3

    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=bucket)
    firehose = boto3.client("firehose", region_name="us-east-1")
    firehose.create_delivery_stream(
        DeliveryStreamName=name,
        DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::123456789012:role/firehose",
            "BucketARN": f"arn:aws:s3:::{bucket}",
            "Prefix": "raw/",
        },
    )


def read_back(bucket: str) -> list[dict[str, object]]:
    """Firehose concatenates the records of a batch into one object; split them back."""
    import boto3

    s3 = boto3.client("s3", region_name="us-east-1")
    out: list[dict[str, object]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            out += split_concatenated(s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read())
    return out
