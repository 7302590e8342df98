"""LocalFirehose: boto3-compatible puts, size/interval buffering, Firehose event shape and response contract."""

from __future__ import annotations

import base64
import json
import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError

from scripts.demo.firehose import BatchOutcome, LocalFirehose, check_response, describe_failure
from tests.support.demo import echo_handler

KIB = 1024


class Collect:
    def __init__(self) -> None:
        self.outcomes: list[BatchOutcome] = []
        self.delivered = threading.Event()

    def deliver(self, outcome: BatchOutcome) -> None:
        self.outcomes.append(outcome)
        self.delivered.set()

    def ok_ids(self) -> list[str]:
        return [json.loads(data)["tweet_id"] for o in self.outcomes for _, data in o.ok]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def records(start: int, count: int, pad: int = 0, **extra: Any) -> list[dict[str, bytes]]:
    return [{"Data": json.dumps({"id": i, "pad": "x" * pad, **extra}).encode()} for i in range(start, start + count)]


def firehose(target: Collect, handler: Any = echo_handler, **kwargs: Any) -> LocalFirehose:
    kwargs.setdefault("buffer_bytes", 200 * KIB)
    kwargs.setdefault("clock", FakeClock())
    return LocalFirehose(handler, target, **kwargs)


def five_buffered(target: Collect) -> tuple[LocalFirehose, FakeClock]:
    """Five records put into a stream that buffers for 1 s, on a clock the test moves."""
    clock = FakeClock()
    fh = firehose(target, clock=clock, buffer_interval_s=1.0)
    fh.put_record_batch(DeliveryStreamName="demo", Records=records(0, 5))
    return fh, clock


def test_put_record_batch_answers_like_boto3() -> None:
    target = Collect()
    fh = firehose(target)
    response = fh.put_record_batch(DeliveryStreamName="demo", Records=records(0, 3))
    assert response["FailedPutCount"] == 0
    ids = [r["RecordId"] for r in response["RequestResponses"]]
    assert len(ids) == len(set(ids)) == 3
    assert fh.pending() == 3
    assert target.outcomes == []


def test_buffer_flushes_when_it_reaches_the_size_hint() -> None:
    # Given a 200 KiB buffer, when 10 KiB records arrive, then nothing is delivered before 200 KiB,
    # and every delivered batch stays within the hint.
    target = Collect()
    fh = firehose(target)
    for i in range(19):
        fh.put_record_batch(DeliveryStreamName="demo", Records=records(i, 1, pad=10 * KIB))
    assert target.outcomes == []
    fh.put_record_batch(DeliveryStreamName="demo", Records=records(19, 1, pad=10 * KIB))
    assert len(target.outcomes) == 1
    assert fh.pending() < 20
    fh.flush()
    assert sorted(map(int, target.ok_ids())) == list(range(20))
    for outcome in target.outcomes:
        assert sum(len(r.data) for r, _ in outcome.ok) <= 200 * KIB


def test_buffer_flushes_when_its_oldest_record_reaches_the_interval() -> None:
    target = Collect()
    fh, clock = five_buffered(target)
    clock.now += 0.5
    assert fh.flush_if_due() is False
    assert target.outcomes == []
    clock.now += 0.6
    assert fh.flush_if_due() is True
    assert sorted(target.ok_ids()) == ["0", "1", "2", "3", "4"]
    assert fh.pending() == 0
    assert fh.flush_if_due() is False


def test_background_timer_delivers_without_further_puts() -> None:
    target = Collect()
    fh = LocalFirehose(echo_handler, target, buffer_bytes=1024 * KIB, buffer_interval_s=0.05).start()
    try:
        fh.put_record_batch(DeliveryStreamName="demo", Records=records(0, 2))
        assert target.delivered.wait(timeout=30)
    finally:
        fh.close()
    assert sorted(target.ok_ids()) == ["0", "1"]


class FailingOnce(Collect):
    """A destination that fails its first delivery (database locked, disk full), then recovers."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 0

    def deliver(self, outcome: BatchOutcome) -> None:
        if self.failures == 0:
            self.failures += 1
            raise OSError("database is locked")
        super().deliver(outcome)


def test_a_failed_delivery_keeps_the_batch_buffered_and_retries_it() -> None:
    # Given records the caller was told were accepted, and a destination that fails once
    target = FailingOnce()
    fh, clock = five_buffered(target)
    clock.now += 1.1
    # When the delivery fails, the batch is back in the buffer, not lost, and not retried at once
    with pytest.raises(OSError):
        fh.flush_if_due()
    assert fh.pending() == 5
    assert fh.flush_if_due() is False
    # Then it is delivered once it is due again, every record exactly once
    clock.now += 1.1
    assert fh.flush_if_due() is True
    assert sorted(map(int, target.ok_ids())) == list(range(5))
    assert fh.pending() == 0


def test_close_delivers_everything_still_buffered() -> None:
    target = Collect()
    fh = firehose(target).start()
    fh.put_record_batch(DeliveryStreamName="demo", Records=records(0, 7))
    fh.close()
    assert sorted(map(int, target.ok_ids())) == list(range(7))


def test_a_put_after_close_is_refused_not_silently_buffered() -> None:
    # Given a closed stream (its last flush is done), when a late put arrives (the ingester still running after
    # a second Ctrl-C), then it is refused with a retriable error instead of buffered where nothing delivers it.
    target = Collect()
    fh = firehose(target).start()
    fh.put_record_batch(DeliveryStreamName="demo", Records=records(0, 2))
    fh.close()
    with pytest.raises(ClientError) as raised:
        fh.put_record_batch(DeliveryStreamName="demo", Records=records(2, 3))
    assert raised.value.response["Error"]["Code"] == "ServiceUnavailableException"
    assert fh.pending() == 0
    assert fh.records_in == 2
    assert sorted(map(int, target.ok_ids())) == [0, 1]


def test_event_has_the_firehose_shape() -> None:
    seen: list[dict[str, Any]] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.append(event)
        return echo_handler(event, context)

    fh = firehose(Collect(), handler=handler, stream_name="tweets", region="eu-west-1")
    sent = records(0, 3)
    fh.put_record_batch(DeliveryStreamName="tweets", Records=sent)
    fh.flush()
    (event,) = seen
    assert set(event) == {"invocationId", "deliveryStreamArn", "region", "records"}
    assert event["deliveryStreamArn"] == "arn:aws:firehose:eu-west-1:123456789012:deliverystream/tweets"
    assert event["region"] == "eu-west-1"
    assert [base64.b64decode(r["data"]) for r in event["records"]] == [r["Data"] for r in sent]
    assert len({r["recordId"] for r in event["records"]}) == 3
    assert all(isinstance(r["approximateArrivalTimestamp"], int) for r in event["records"])


def _broken(mutate: Any) -> Any:
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        response = echo_handler(event, context)
        mutate(response)
        return response

    return handler


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda r: r["records"].pop(), "Lambda.MissingRecordId"),
        (lambda r: r["records"].append(dict(r["records"][0])), "Lambda.DuplicatedRecordId"),
        (lambda r: r["records"].append({**r["records"][0], "recordId": "999"}), "Lambda.MissingRecordId"),
        (lambda r: r["records"][0].update(result="Maybe"), "Lambda.JsonProcessingException"),
        (lambda r: r["records"][0].update(data="***"), "Lambda.JsonProcessingException"),
        (lambda r: r.pop("records"), "Lambda.JsonProcessingException"),
    ],
    ids=["missing-id", "duplicated-id", "extra-id", "unknown-result", "bad-base64", "no-records"],
)
def test_a_broken_response_fails_the_whole_batch(mutate: Any, code: str) -> None:
    target = Collect()
    fh = firehose(target, handler=_broken(mutate), processor_retries=1)
    sent = records(0, 3)
    fh.put_record_batch(DeliveryStreamName="demo", Records=sent)
    fh.flush()
    (outcome,) = target.outcomes
    assert outcome.ok == []
    assert [f.error_code for f in outcome.failed] == [code] * 3
    assert [f.record.data for f in outcome.failed] == [r["Data"] for r in sent]
    assert outcome.attempts == 2
    assert fh.contract_errors == 2


def test_a_raising_handler_is_retried_then_its_batch_fails() -> None:
    calls = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("cold start blew up")
        return echo_handler(event, context)

    target = Collect()
    fh = firehose(target, handler=handler, processor_retries=1)
    fh.put_record_batch(DeliveryStreamName="demo", Records=records(0, 2))
    fh.flush()
    assert sorted(target.ok_ids()) == ["0", "1"]  # the retry succeeded

    always = firehose(Collect(), handler=lambda e, c: 1 / 0, processor_retries=2)
    always.put_record_batch(DeliveryStreamName="demo", Records=records(0, 2))
    always.flush()
    (outcome,) = always.target.outcomes  # type: ignore[attr-defined]
    assert [f.error_code for f in outcome.failed] == ["Lambda.FunctionError"] * 2
    assert outcome.failed[0].attempts == 3
    assert "ZeroDivisionError" in outcome.failed[0].error_message


def test_processing_failed_records_keep_their_original_data_and_the_rest_succeed() -> None:
    target = Collect()
    fh = firehose(target)
    sent = [*records(0, 2), *records(2, 1, fail=True), *records(3, 1)]
    fh.put_record_batch(DeliveryStreamName="demo", Records=sent)
    fh.flush()
    (outcome,) = target.outcomes
    assert sorted(target.ok_ids()) == ["0", "1", "3"]
    (failed,) = outcome.failed
    assert failed.error_code == "Lambda.ProcessingFailed"
    assert failed.record.data == sent[2]["Data"]
    line = failed.as_json("arn:lambda")
    assert set(line) == {
        "attemptsMade", "arrivalTimestamp", "errorCode", "errorMessage", "attemptEndingTimestamp", "rawData",
        "lambdaArn",
    }  # fmt: skip
    assert base64.b64decode(line["rawData"]) == sent[2]["Data"]


@pytest.mark.parametrize(
    ("batch", "code"),
    [
        ([], "ValidationException"),
        ([{"Data": b"x"}] * 501, "ValidationException"),
        ([{"Data": b"x" * (1000 * KIB + 1)}], "ValidationException"),
        ([{"Data": b"x" * (1000 * KIB)}] * 5, "ValidationException"),  # 5,000 KiB > 4 MiB
        ([{"Nope": b"x"}], "ValidationException"),
    ],
    ids=["empty", "501-records", "record-over-1000KiB", "batch-over-4MiB", "no-data"],
)
def test_put_record_batch_enforces_firehose_limits(batch: list[dict[str, bytes]], code: str) -> None:
    fh = firehose(Collect())
    with pytest.raises(ClientError) as info:
        fh.put_record_batch(DeliveryStreamName="demo", Records=batch)
    assert info.value.response["Error"]["Code"] == code
    assert fh.pending() == 0


def test_limits_at_the_edge_are_accepted() -> None:
    fh = firehose(Collect(), buffer_bytes=3 * 1024 * KIB)
    fh.put_record_batch(DeliveryStreamName="demo", Records=[{"Data": b"{}"}] * 500)
    fh.put_record_batch(DeliveryStreamName="demo", Records=[{"Data": b"x" * (1000 * KIB)}])
    assert fh.pending() == 501


def test_unknown_stream_is_not_found() -> None:
    with pytest.raises(ClientError) as info:
        firehose(Collect()).put_record_batch(DeliveryStreamName="other", Records=records(0, 1))
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"


@pytest.mark.parametrize(
    "kwargs", [{"buffer_bytes": 100 * KIB}, {"buffer_bytes": 4 * 1024 * KIB}, {"buffer_interval_s": 0}]
)
def test_settings_outside_firehose_ranges_are_rejected(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        LocalFirehose(echo_handler, Collect(), **kwargs)


def test_check_response_returns_input_order() -> None:
    fh = firehose(Collect())
    fh.put_record_batch(DeliveryStreamName="demo", Records=records(0, 3))
    batch = fh._take_batch(only_if_full=False)
    response = echo_handler(fh.build_event(batch), None)
    response["records"].reverse()
    checked = check_response(batch, response)
    assert [r.record_id for r, _, _ in checked] == [r.record_id for r in batch]


def test_describe_failure_uses_the_processor_reason_when_present() -> None:
    assert describe_failure(b'{"errorCode": "InvalidJSON", "errorMessage": "line 1"}') == "InvalidJSON: line 1"
    assert "ProcessingFailed" in describe_failure(b"\xff\xfe")


def test_concurrent_puts_lose_nothing() -> None:
    target = Collect()
    fh = LocalFirehose(echo_handler, target, buffer_bytes=200 * KIB, buffer_interval_s=0.01).start()

    def producer(base: int) -> None:
        for i in range(0, 200, 20):
            fh.put_record_batch(DeliveryStreamName="demo", Records=records(base + i, 20, pad=500))

    threads = [threading.Thread(target=producer, args=(n * 1000,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    fh.close()
    assert sorted(map(int, target.ok_ids())) == sorted(n * 1000 + i for n in range(3) for i in range(200))
