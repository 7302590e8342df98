"""The S3 failed-record line: what the demo writes is what redrive reads, and both are what Firehose writes."""

from __future__ import annotations

import base64
import gzip
import json
import re
from pathlib import Path

import pytest

from ingester.firehose import failed_records
from ingester.firehose.failed_records import (
    FOLDERS,
    OPENSEARCH_FAILED,
    PROCESSING_FAILED,
    Failure,
    encode_object,
    error_code,
    opensearch_failed_line,
    parse_object,
    processing_failed_line,
    raw_data,
)
from tests.support.firehose import opensearch_failed_line as documented_opensearch_line
from tests.support.firehose import processing_failed_line as documented_processing_line

REPO = Path(__file__).resolve().parents[3]
ARN = "arn:aws:lambda:us-east-1:123456789012:function:tweets-transform:$LATEST"
PAYLOADS = [b'{"v":1,"tweet":{"id":"1"}}', "é ✓ 😀".encode(), b"\x00\xff not utf-8", b""]


def test_the_folders_are_firehose_s() -> None:
    assert FOLDERS == ("processing-failed", "AmazonOpenSearchService-failed")


def test_terraform_expires_the_same_folders() -> None:
    # Terraform's lifecycle rules cannot import Python: they are a second copy, kept equal here.
    hcl = (REPO / "terraform" / "modules" / "s3" / "main.tf").read_text()
    assert set(re.findall(r'prefix\s*=\s*"([^"]*-failed/)"', hcl)) == {f"{f}/" for f in FOLDERS}


def test_processing_failed_line_has_the_documented_keys() -> None:
    line = processing_failed_line(b"x", Failure("Lambda.ProcessingFailed", "m", 1, 1, 2), lambda_arn=ARN)
    assert set(line) == set(documented_processing_line(b"x"))


def test_opensearch_failed_line_has_the_documented_keys_but_the_obsolete_type_name() -> None:
    line = opensearch_failed_line(b"x", Failure("400", "m", 1, 1, 2), document_id="7", index_name="tweets-2026-11-26")
    assert set(line) == set(documented_opensearch_line(b"x")) - {"esTypeName"}
    assert (line["esDocumentId"], line["esIndexName"]) == ("7", "tweets-2026-11-26")


@pytest.mark.parametrize("gzipped", [True, False])
def test_written_lines_read_back_the_same(gzipped: bool) -> None:
    lines = [
        processing_failed_line(
            p, Failure("Lambda.FunctionError", f"bad {i} — ✗", 3, 1000 + i, 2000 + i), lambda_arn=ARN
        )
        for i, p in enumerate(PAYLOADS)
    ] + [
        opensearch_failed_line(
            p, Failure("400", "mapper_parsing_exception", 1, 5, 6), document_id=None, index_name="sqlite:tweets"
        )
        for p in PAYLOADS
    ]
    body = encode_object(lines, gzipped=gzipped)
    assert failed_records.is_gzipped(body) is gzipped
    read = parse_object(body)
    assert read == lines
    assert [raw_data(line) for line in read] == PAYLOADS * 2
    assert [error_code(line) for line in read] == ["Lambda.FunctionError"] * 4 + ["400"] * 4


def test_gzip_is_reproducible() -> None:
    line = processing_failed_line(b"x", Failure("c", "m", 1, 1, 2), lambda_arn=ARN)
    assert encode_object([line], gzipped=True) == encode_object([line], gzipped=True)


def test_reads_what_firehose_writes_gzipped_and_concatenated() -> None:
    documented = [documented_processing_line(b"a"), documented_opensearch_line(b"b", code="403")]
    body = gzip.compress("".join(json.dumps(x) for x in documented).encode())
    assert [raw_data(x) for x in parse_object(body)] == [b"a", b"b"]
    assert [error_code(x) for x in parse_object(body)] == ["Lambda.ProcessingFailed", "403"]


@pytest.mark.parametrize(
    ("body", "where"),
    [(b'{"no": "rawData"}\n', "without rawData"), (b"this is not json", "bad JSON"), (b'{"rawData": 7}', "rawData")],
)
def test_an_object_that_is_not_failed_records_is_refused(body: bytes, where: str) -> None:
    with pytest.raises(ValueError, match=f"not a Firehose failed-records object.*{where}"):
        parse_object(body)


def test_a_line_with_bad_base64_reads_as_none_and_the_error_code_spellings() -> None:
    assert raw_data({"rawData": "not base64!"}) is None
    assert raw_data({"rawData": base64.b64encode(b"ok").decode()}) == b"ok"
    assert error_code({"ErrorCode": "A"}) == "A"
    assert error_code({"lastErrorCode": "B", "errorCode": ""}) == "B"
    assert error_code({}) == "unknown"
    assert PROCESSING_FAILED in FOLDERS and OPENSEARCH_FAILED in FOLDERS
