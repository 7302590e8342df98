"""Redrive end to end against moto in server mode: failed-record objects in S3 -> records back in a stream.

The stream has an S3 destination (moto's Firehose writes each PutRecordBatch into S3 straight away, records
concatenated without delimiter), so the test reads back exactly what the redrive put.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import boto3
import pytest

from scripts.ops import redrive
from tests.support.firehose import (
    document,
    envelope,
    failed_object,
    make_stream,
    opensearch_failed_line,
    processing_failed_line,
    read_back,
)

pytestmark = pytest.mark.moto_server

BACKUP, DELIVERED, STREAM = "tweets-backup", "tweets-delivered", "tweets-redrive"
KEY_A = "processing-failed/2026/11/26/10/tweets-1-2026-11-26-10-00-00-aaaa"
KEY_B = "processing-failed/2026/11/26/11/tweets-1-2026-11-26-11-00-00-bbbb"
KEY_C = "AmazonOpenSearchService-failed/2026/11/26/10/tweets-1-2026-11-26-10-05-00-cccc"
UNRELATED = "some/other/object.json"


@pytest.fixture
def aws(moto_endpoint: str) -> dict[str, Any]:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BACKUP)
    make_stream(STREAM, DELIVERED)
    envelopes_a = [envelope(i) for i in range(620)]  # more than one PutRecordBatch (500 max)
    envelopes_b = [envelope(1000 + i) for i in range(3)]
    documents_c = [document(i) for i in range(5)]
    s3.put_object(Bucket=BACKUP, Key=KEY_A, Body=failed_object(
        [processing_failed_line(d, "Lambda.FunctionError" if i % 2 else "Lambda.ProcessingFailed")
         for i, d in enumerate(envelopes_a)]))  # fmt: skip
    bad = processing_failed_line(b"\x00not json at all")
    s3.put_object(
        Bucket=BACKUP, Key=KEY_B, Body=failed_object([processing_failed_line(d) for d in envelopes_b] + [bad])
    )
    s3.put_object(Bucket=BACKUP, Key=KEY_C, Body=failed_object([opensearch_failed_line(d) for d in documents_c]))
    s3.put_object(Bucket=BACKUP, Key=UNRELATED, Body=b"{}")
    return {"s3": s3, "expected": envelopes_a + envelopes_b + documents_c}


def run(*extra: str) -> int:
    return redrive.main(["--no-terraform", "--bucket", BACKUP, "--stream", STREAM, "--region", "us-east-1", *extra])


def keys(s3: Any, bucket: str) -> set[str]:
    return {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}


def canonical(items: list[Any]) -> Counter[str]:
    return Counter(json.dumps(x, sort_keys=True) for x in items)


def test_redrive_puts_every_record_exactly_once_and_moves_the_objects(aws: dict[str, Any], capsys) -> None:
    s3 = aws["s3"]
    # When the redrive runs
    code = run()
    out = capsys.readouterr().out
    # Then every recoverable record is in the stream exactly once, as-is (envelopes and documents alike)
    assert canonical(read_back(DELIVERED)) == canonical([json.loads(d) for d in aws["expected"]])
    assert len(read_back(DELIVERED)) == 628
    # and objects whose records all went through moved under redriven/ (copy + delete)
    assert keys(s3, BACKUP) == {KEY_B, UNRELATED, f"redriven/{KEY_A}", f"redriven/{KEY_C}"}
    moved = s3.get_object(Bucket=BACKUP, Key=f"redriven/{KEY_C}")["Body"].read()
    assert [r.data for r in redrive.parse_object(moved)] == [document(i) for i in range(5)]
    # and the object with a record that cannot be sent stays put, holding only that record with the new reason
    (left,) = redrive.parse_object(s3.get_object(Bucket=BACKUP, Key=KEY_B)["Body"].read())
    assert left.data == b"\x00not json at all"
    assert left.raw["errorCode"] == "Redrive.not-json"
    assert left.raw["lambdaArn"].endswith("tweets-transform:$LATEST")  # the rest of the line is kept
    # and the report says what happened
    assert code == 1  # something stays put
    assert "objects: 3 found, 2 moved to redriven/" in out
    assert "records: 629 found, 628 put (4 PutRecordBatch calls)" in out
    assert "Lambda.ProcessingFailed" in out and "Lambda.FunctionError" in out and "400" in out
    assert f"STAYS PUT: {KEY_B}: 1 record(s) still failing: 1x Redrive.not-json" in out
    assert "progress: 3/3 objects" in out


def test_second_run_sends_nothing(aws: dict[str, Any], capsys) -> None:
    s3 = aws["s3"]
    run()
    before = keys(s3, DELIVERED)
    capsys.readouterr()

    code = run()
    out = capsys.readouterr().out

    assert keys(s3, DELIVERED) == before
    assert "records: 1 found, 0 put (0 PutRecordBatch calls)" in out
    assert code == 1
    assert keys(s3, BACKUP) == {KEY_B, UNRELATED, f"redriven/{KEY_A}", f"redriven/{KEY_C}"}


def test_dry_run_counts_by_error_code_and_changes_nothing(aws: dict[str, Any], capsys) -> None:
    s3 = aws["s3"]
    before = {k: s3.get_object(Bucket=BACKUP, Key=k)["Body"].read() for k in keys(s3, BACKUP)}

    code = run("--dry-run")
    out = capsys.readouterr().out

    assert code == 0
    assert {k: s3.get_object(Bucket=BACKUP, Key=k)["Body"].read() for k in keys(s3, BACKUP)} == before
    assert keys(s3, DELIVERED) == set()
    assert "DRY RUN" in out
    counts = {line.split()[0]: int(line.split()[1]) for line in out.splitlines() if line.startswith("    ")}
    assert counts == {"Lambda.ProcessingFailed": 314, "Lambda.FunctionError": 310, "400": 5}
    assert "by payload: document 5, envelope 623, not-json 1" in out


def test_only_one_source_and_include_non_json(aws: dict[str, Any], capsys) -> None:
    s3 = aws["s3"]
    assert run("--only", "opensearch-failed") == 0
    assert keys(s3, BACKUP) == {KEY_A, KEY_B, UNRELATED, f"redriven/{KEY_C}"}
    assert len(read_back(DELIVERED)) == 5
    capsys.readouterr()

    assert run("--only", "processing-failed", "--include-non-json") == 0
    assert keys(s3, BACKUP) == {UNRELATED, f"redriven/{KEY_A}", f"redriven/{KEY_B}", f"redriven/{KEY_C}"}


def test_missing_stream_is_a_clear_error(aws: dict[str, Any], capsys) -> None:
    code = redrive.main(["--no-terraform", "--bucket", BACKUP, "--stream", "nope", "--region", "us-east-1"])
    assert code == 1
    assert "nope" in capsys.readouterr().err
    assert f"redriven/{KEY_A}" not in keys(aws["s3"], BACKUP)


def test_explicit_prefix_replaces_the_defaults(aws: dict[str, Any], capsys) -> None:
    s3 = aws["s3"]
    s3.put_object(
        Bucket=BACKUP,
        Key="AmazonOpenSearchService_failed/x",
        Body=s3.get_object(Bucket=BACKUP, Key=KEY_C)["Body"].read(),
    )
    assert run("--prefix", "AmazonOpenSearchService_failed/") == 0
    assert "redriven/AmazonOpenSearchService_failed/x" in keys(s3, BACKUP)
    assert {KEY_A, KEY_B, KEY_C} <= keys(s3, BACKUP)
    assert len(read_back(DELIVERED)) == 5


def test_a_redrive_never_puts_back_a_deleted_post(aws: dict[str, Any], capsys, tmp_path) -> None:
    from ingester.deletions.publish import S3TombstonePublisher
    from ingester.deletions.store import DeletionStore

    s3 = aws["s3"]
    # Given the ingester's deleter published tombstones: two posts deleted, and a document's post
    store = DeletionStore(tmp_path, retention_s=86_400, tombstone_ttl_s=86_400)
    for post in ("1700000003", "1700001001", "1800000002"):
        store.tombstone("post", post, source="x")
    assert S3TombstonePublisher(s3, f"s3://{BACKUP}/tombstones/ingester.jsonl")(store.tombstones())
    published = s3.get_object(Bucket=BACKUP, Key="tombstones/ingester.jsonl")["Body"].read()
    assert b"text" not in published  # ids only
    # When the redrive runs
    code = run()
    out = capsys.readouterr().out
    # Then the deleted posts are not put back, everything else is, and their objects still move on
    sent = {d.get("tweet", {}).get("id") or d.get("tweet_id") for d in read_back(DELIVERED)}
    assert not sent & {"1700000003", "1700001001", "1800000002"}
    assert len(read_back(DELIVERED)) == 628 - 3
    assert keys(s3, BACKUP) == {KEY_B, UNRELATED, f"redriven/{KEY_A}", f"redriven/{KEY_C}", "tombstones/ingester.jsonl"}
    assert "skipped: deleted 3 (posts deleted at the source; 3 tombstones read)" in out
    assert code == 1  # KEY_B's non-JSON record still stays put


def test_a_removed_author_s_posts_are_not_put_back(aws: dict[str, Any], capsys) -> None:
    s3 = aws["s3"]
    s3.put_object(Bucket=BACKUP, Key="tombstones/bluesky.jsonl", Body=b'{"d":"author","id":"42","t":1,"src":"x"}\n')
    run()
    assert read_back(DELIVERED) == []  # every test record is by author 42
    assert "skipped: deleted 628" in capsys.readouterr().out
