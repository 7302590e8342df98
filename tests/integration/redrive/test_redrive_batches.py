"""Redrive's batching and retry rules (docs/design.md §2.4) with a scripted Firehose client, and S3 from moto
in-process."""

from __future__ import annotations

import gzip
import json
from typing import Any

import boto3
import pytest
from moto import mock_aws

from scripts import redrive
from tests.integration.redrive.builders import envelope, failed_object, processing_failed_line

KIB = 1024


@pytest.mark.parametrize(("count", "sizes"), [(499, [499]), (500, [500]), (501, [500, 1]), (1001, [500, 500, 1])])
def test_batches_hold_at_most_500_records(count: int, sizes: list[int]) -> None:
    assert [len(b) for b in redrive.batches([b"x"] * count)] == sizes


def test_batches_hold_at_most_4_mib() -> None:
    # five records of 1,000 KiB: four fit in 4 MiB (4,000 KiB), the fifth starts a new call
    payloads = [b"x" * (1000 * KIB)] * 5
    assert [len(b) for b in redrive.batches(payloads)] == [4, 1]
    exact = [b"x" * (1024 * KIB)] * 4  # exactly 4 MiB fits
    assert [len(b) for b in redrive.batches(exact)] == [4]
    assert [len(b) for b in redrive.batches([*exact, b"y"])] == [4, 1]


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


def no_sleep_backoff(sleeps: list[float], attempts: int = 4) -> redrive.Backoff:
    return redrive.Backoff(base=0.1, cap=1.0, attempts=attempts, sleep=sleeps.append)


def test_only_failed_entries_are_resent_with_backoff() -> None:
    payloads = [envelope(i) for i in range(6)]
    client = ScriptedFirehose([{payloads[1], payloads[3]}, {payloads[3]}])
    sleeps: list[float] = []

    calls, failed = redrive.put_all(client, "s", payloads, no_sleep_backoff(sleeps))

    assert failed == {}
    assert calls == 3
    assert client.calls == [payloads, [payloads[1], payloads[3]], [payloads[3]]]
    assert len(sleeps) == 2 and all(0 <= s <= 1.0 for s in sleeps)


def test_entries_failing_every_attempt_are_reported_with_the_reason() -> None:
    payloads = [envelope(i) for i in range(3)]
    client = ScriptedFirehose([{payloads[2]}] * 10)
    calls, failed = redrive.put_all(client, "s", payloads, no_sleep_backoff([], attempts=3))
    assert calls == 3
    assert failed == {2: ("ServiceUnavailableException", "Slow down.")}


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
        report = redrive.run(settings, s3=s3, firehose=flaky, backoff=no_sleep_backoff([], attempts=3))

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
        report = redrive.run(settings, s3=s3, firehose=healthy, backoff=no_sleep_backoff([]))
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
