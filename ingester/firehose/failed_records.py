"""The failed-records format Firehose writes to its S3 backup: written and read here only.

Firehose puts what it could not deliver under two folders of the backup bucket (after the stream's S3 backup
prefix, then ``YYYY/MM/DD/HH/``):

``processing-failed/``
    Records the transform Lambda returned as ``ProcessingFailed`` (or whose invocation failed). One JSON object
    per line: ``attemptsMade, arrivalTimestamp, errorCode, errorMessage, attemptEndingTimestamp, rawData,
    lambdaArn``; ``rawData`` is the record Firehose received (base64).
``AmazonOpenSearchService-failed/``
    Documents OpenSearch refused. One JSON object per line: ``attemptsMade, arrivalTimestamp, errorCode,
    errorMessage, attemptEndingTimestamp, esDocumentId, esIndexName, esTypeName, rawData``; ``rawData`` is the
    transformed document (base64).

Some revisions of the AWS guide spell the second folder ``AmazonOpenSearchService_failed/``; the API reference and
the service use ``AmazonOpenSearchService-failed/``.

Writers: the demo's local Firehose and store (``scripts/demo``), which lay failures out on disk as Firehose does
in S3; ``make redrive``, which rewrites an object to hold only the records that still fail. Readers: ``make
redrive`` and ``make smoke``.

Failure policy: reading is strict about the object and lenient about each line. An object that is not JSON
objects with a string ``rawData`` raises ``ValueError`` naming the offset (the caller leaves that object alone);
a line whose ``rawData`` is not base64 reads as ``None`` (:func:`raw_data`) so the caller can report it and still
handle the object's other lines. Only ``rawData`` is required; ``errorCode`` may also be spelled ``ErrorCode`` or
``lastErrorCode`` (the format-conversion variants).
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

PROCESSING_FAILED = "processing-failed"
"""Folder of records the transform Lambda failed."""

OPENSEARCH_FAILED = "AmazonOpenSearchService-failed"
"""Folder of documents OpenSearch refused."""

FOLDERS = (PROCESSING_FAILED, OPENSEARCH_FAILED)

GZIP_MAGIC = b"\x1f\x8b"

Line = dict[str, Any]
"""One failed record, as the JSON object Firehose writes on its line."""


@dataclass(frozen=True)
class Failure:
    """What every failed-record line says about the delivery that failed, whichever the folder."""

    error_code: str
    error_message: str
    attempts: int
    arrival_ms: int  # when Firehose received the record (epoch ms)
    ended_ms: int  # when the last attempt ended (epoch ms)

    def line(self, data: bytes) -> Line:
        return {
            "attemptsMade": self.attempts,
            "arrivalTimestamp": self.arrival_ms,
            "errorCode": self.error_code,
            "errorMessage": self.error_message,
            "attemptEndingTimestamp": self.ended_ms,
            "rawData": base64.b64encode(data).decode("ascii"),
        }


def processing_failed_line(data: bytes, failure: Failure, *, lambda_arn: str) -> Line:
    """The ``processing-failed/`` line for a record the transform failed."""
    return {**failure.line(data), "lambdaArn": lambda_arn}


def opensearch_failed_line(data: bytes, failure: Failure, *, document_id: str | None, index_name: str) -> Line:
    """The ``AmazonOpenSearchService-failed/`` line for a document the destination refused (``esTypeName``, empty
    since OpenSearch has no types, is left out)."""
    return {**failure.line(data), "esDocumentId": document_id, "esIndexName": index_name}


def encode_lines(lines: Sequence[Mapping[str, Any]]) -> bytes:
    """One compact JSON object per line, UTF-8."""
    return "".join(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n" for line in lines).encode()


def encode_object(lines: Sequence[Mapping[str, Any]], *, gzipped: bool) -> bytes:
    """A failed-records object: :func:`encode_lines`, GZIP-compressed (reproducibly) when ``gzipped``."""
    body = encode_lines(lines)
    return gzip.compress(body, mtime=0) if gzipped else body


def is_gzipped(body: bytes) -> bool:
    return body[:2] == GZIP_MAGIC


def parse_object(body: bytes) -> list[Line]:
    """The lines of a failed-records object: optional GZIP, then JSON objects separated by newlines or nothing.

    Raises ``ValueError`` (bad JSON, a line without a string ``rawData``, a corrupt deflate stream: zlib's own
    ``zlib.error`` is none of the three, so it is turned into a ValueError here), ``OSError`` or ``EOFError`` (a bad
    GZIP header, a truncated object).
    """
    if is_gzipped(body):
        try:
            body = gzip.decompress(body)
        except zlib.error as exc:
            raise ValueError(f"not a Firehose failed-records object (corrupt GZIP data: {exc})") from exc
    text = body.decode("utf-8")
    decoder = json.JSONDecoder()
    lines: list[Line] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        if pos >= len(text):
            return lines
        try:
            line, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not a Firehose failed-records object (bad JSON at offset {pos}: {exc.msg})") from exc
        if not isinstance(line, dict) or not isinstance(line.get("rawData"), str):
            raise ValueError(f"not a Firehose failed-records object (a line without rawData at offset {pos})")
        lines.append(line)


def raw_data(line: Mapping[str, Any]) -> bytes | None:
    """The line's record (``rawData`` decoded); None when it is not valid base64."""
    try:
        return base64.b64decode(line["rawData"], validate=True)
    except (binascii.Error, ValueError, TypeError, KeyError):
        return None


def error_code(line: Mapping[str, Any]) -> str:
    """The line's error code, whichever of its spellings is present; ``unknown`` when none is."""
    for key in ("errorCode", "ErrorCode", "lastErrorCode"):
        if line.get(key) not in (None, ""):
            return str(line[key])
    return "unknown"
