"""Redrive with a scripted Firehose client and S3 from moto in-process: what happens to each object, reading its lines.

The batching and retry rules it relies on are the Firehose component's, tested in tests/unit/firehose/."""

from __future__ import annotations

import gzip
import json

import boto3
import pytest
from moto import mock_aws

from ingester.firehose.put import RetryPolicy
from scripts.ops import redrive
from tests.support.firehose import ScriptedFirehose, envelope, failed_object, processing_failed_line


def no_sleep_policy(sleeps: list[float], attempts: int = 4) -> RetryPolicy:
    return RetryPolicy(base_s=0.1, cap_s=1.0, attempts=attempts, sleep=sleeps.append)


def test_object_with_records_failing_again_stays_put_with_the_new_reason_and_a_rerun_sends_only_those(capsys) -> None:
    payloads = [envelope(i) for i in range(4)]
    key = "processing-failed/2026/11/26/10/obj"
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="redrive-bkt")
        s3.put_object(Bucket="redrive-bkt", Key=key, Body=failed_object([processing_failed_line(p) for p in payloads]))
        settings = redrive.Settings(bucket="redrive-bkt", stream="s", region="us-east-1")

        # Given Firehose keeps refusing one record
        flaky = ScriptedFirehose([{payloads[1]}] * 10)
        report = redrive.run(settings, s3=s3, firehose=flaky, policy=no_sleep_policy([], attempts=3))

        # Then the object stays put, rewritten (still GZIP) with only that record and the new reason
        assert report.records_put == 3 and report.objects_moved == 0
        body = s3.get_object(Bucket="redrive-bkt", Key=key)["Body"].read()
        (line,) = [json.loads(x) for x in gzip.decompress(body).splitlines()]
        assert line["errorCode"] == "Redrive.ServiceUnavailableException"
        assert line["errorMessage"] == "Slow down."
        assert redrive.parse_object(body)[0].data == payloads[1]
        assert "STAYS PUT: processing-failed/2026/11/26/10/obj: 1 record(s) still failing" in capsys.readouterr().out

        # When Firehose recovers, a second run sends only that record and moves the object
        healthy = ScriptedFirehose([])
        report = redrive.run(settings, s3=s3, firehose=healthy, policy=no_sleep_policy([]))
        assert healthy.calls == [[payloads[1]]]
        assert report.objects_moved == 1
        assert [o["Key"] for o in s3.list_objects_v2(Bucket="redrive-bkt")["Contents"]] == [f"redriven/{key}"]


def test_parse_object_accepts_plain_and_concatenated_and_rejects_garbage() -> None:
    lines = [processing_failed_line(envelope(i)) for i in range(2)]
    plain = failed_object(lines, gzipped=False)
    assert [r.data for r in redrive.parse_object(plain)] == [envelope(0), envelope(1)]
    concatenated = "".join(json.dumps(x) for x in lines).encode()
    assert [r.kind for r in redrive.parse_object(concatenated)] == ["envelope", "envelope"]
    with pytest.raises(ValueError, match="failed-records"):
        redrive.parse_object(b'{"no": "rawData"}\n')
    with pytest.raises(ValueError, match="failed-records"):
        redrive.parse_object(b"this is not json")


def test_unreadable_object_is_left_untouched(capsys) -> None:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="redrive-bkt")
        s3.put_object(Bucket="redrive-bkt", Key="processing-failed/x", Body=b"garbage")
        client = ScriptedFirehose([])
        report = redrive.run(
            redrive.Settings(bucket="redrive-bkt", stream="s", region="us-east-1"), s3=s3, firehose=client
        )
        assert client.calls == []
        assert report.unreadable and report.unreadable[0][0] == "processing-failed/x"
        assert s3.get_object(Bucket="redrive-bkt", Key="processing-failed/x")["Body"].read() == b"garbage"
    assert "UNREADABLE (left untouched): processing-failed/x" in capsys.readouterr().out


def test_a_corrupt_gzip_object_is_reported_and_the_objects_after_it_are_still_sent(capsys) -> None:
    # Given a GZIP object whose deflate data is damaged (zlib.error, not OSError), sorted before a good one
    good = failed_object([processing_failed_line(envelope(1))])
    damaged = bytearray(failed_object([processing_failed_line(envelope(i)) for i in range(50)]))
    damaged[10:40] = b"\xff" * 30
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="redrive-bkt")
        s3.put_object(Bucket="redrive-bkt", Key="processing-failed/a-damaged", Body=bytes(damaged))
        s3.put_object(Bucket="redrive-bkt", Key="processing-failed/b-good", Body=good)
        client = ScriptedFirehose([])
        # When the redrive runs
        report = redrive.run(
            redrive.Settings(bucket="redrive-bkt", stream="s", region="us-east-1"), s3=s3, firehose=client
        )
        # Then the damaged object is reported and left, and the good one after it is sent and moved
        assert [key for key, _ in report.unreadable] == ["processing-failed/a-damaged"]
        assert client.calls == [[envelope(1)]]
        assert report.objects_moved == 1
    assert "UNREADABLE (left untouched): processing-failed/a-damaged" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("payload", "kind"),
    [
        (b'{"v":1,"tweet":{}}', "envelope"),
        (b'{"tweet_id":"1","sentiment_model":"vader"}', "document"),
        (b'{"other":1}', "json"),
        (b"[1,2]", "not-json"),
        (b"\xff\xfe", "not-json"),
    ],
)
def test_classify(payload: bytes, kind: str) -> None:
    assert redrive.classify(payload) == kind
