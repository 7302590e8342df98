"""PutRecordBatch with retries of only the failed entries: the writer's and the tools' shared loop and put_all."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from ingester.backoff import Backoff
from ingester.firehose.batching import RecordTooLarge
from ingester.firehose.put import (
    EntryError,
    RetryPolicy,
    StreamUnusable,
    pause_after,
    put_all,
    put_once,
    retry_failed,
)
from tests.support.firehose import ScriptedFirehose


def envelope(i: int) -> bytes:
    return json.dumps({"v": 1, "tweet": {"id": f"17{i:08d}", "text": f"tweet {i}"}}, separators=(",", ":")).encode()


def no_sleep_policy(sleeps: list[float], attempts: int = 4) -> RetryPolicy:
    return RetryPolicy(base_s=0.1, cap_s=1.0, attempts=attempts, sleep=sleeps.append)


# Moved from tests/integration/redrive/test_redrive_batches.py (redrive.put_all is now the component's).
def test_only_failed_entries_are_resent_at_once_after_progress() -> None:
    payloads = [envelope(i) for i in range(6)]
    client = ScriptedFirehose([{payloads[1], payloads[3]}, {payloads[3]}])
    sleeps: list[float] = []

    calls, failed = put_all(client, "s", payloads, no_sleep_policy(sleeps))

    assert failed == {}
    assert calls == 3
    assert client.calls == [payloads, [payloads[1], payloads[3]], [payloads[3]]]
    assert sleeps == []  # each call accepted something: no backoff


def test_only_calls_that_accept_nothing_wait_and_escalate() -> None:
    payloads = [envelope(i) for i in range(4)]
    everything = set(payloads)
    # call 1 nothing, call 2 nothing, call 3 progress, call 4 nothing, call 5 the rest
    rest = {payloads[2], payloads[3]}
    client = ScriptedFirehose([everything, everything, rest, rest, set()])
    sleeps: list[float] = []
    policy = RetryPolicy(base_s=1.0, cap_s=100.0, attempts=10, sleep=sleeps.append, rng=random.Random(1))

    calls, failed = put_all(client, "s", payloads, policy)

    assert (calls, failed) == (5, {})
    assert len(sleeps) == 3
    assert 0.5 <= sleeps[0] <= 1.0 and 1.0 <= sleeps[1] <= 2.0  # escalating while nothing is accepted
    assert 0.5 <= sleeps[2] <= 1.0  # progress in call 3 reset it: call 4's failure starts from the base


@pytest.mark.parametrize(
    ("sent", "failed", "escalates"),
    [(500, 0, False), (500, 250, False), (500, 499, False), (1, 0, False), (500, 500, True), (1, 1, True)],
)
def test_pause_after_escalates_only_when_nothing_was_accepted(sent: int, failed: int, escalates: bool) -> None:
    backoff = Backoff(1.0, 100.0, random.Random(0))
    for _ in range(3):
        backoff.next()  # three calls in a row accepted nothing before this one
    delay = pause_after(backoff, sent, failed)
    if escalates:
        assert 4.0 <= delay <= 8.0 and backoff.attempt == 4  # the fourth step
    else:
        assert delay == 0.0 and backoff.attempt == 0  # reset: the next failure waits the base step again


def test_entries_failing_every_attempt_are_reported_with_the_reason() -> None:
    payloads = [envelope(i) for i in range(3)]
    client = ScriptedFirehose([{payloads[2]}] * 10)
    calls, failed = put_all(client, "s", payloads, no_sleep_policy([], attempts=3))
    assert calls == 3
    assert failed == {2: ("ServiceUnavailableException", "Slow down.")}


@pytest.mark.parametrize(("count", "calls"), [(499, 1), (500, 1), (501, 2)])
def test_put_all_splits_into_calls_of_at_most_500(count: int, calls: int) -> None:
    payloads = [envelope(i) for i in range(count)]
    client = ScriptedFirehose([])
    made, failed = put_all(client, "s", payloads, no_sleep_policy([]))
    assert (made, failed) == (calls, {})
    assert [p for call in client.calls for p in call] == payloads


def test_the_backoff_grows_within_a_batch_and_starts_again_for_the_next() -> None:
    payloads = [envelope(i) for i in range(501)]  # two calls: 500 + 1
    fail_first = {payloads[0]}
    fail_last = {payloads[500]}
    client = ScriptedFirehose([fail_first, fail_first, fail_first, set(), fail_last, set()])
    sleeps: list[float] = []
    policy = RetryPolicy(base_s=1.0, cap_s=100.0, attempts=5, sleep=sleeps.append, rng=random.Random(0))
    calls, failed = put_all(client, "s", payloads, policy)
    assert (calls, failed) == (6, {})
    # first batch: call 1 made progress (no wait), calls 2 and 3 accepted nothing (growing waits)
    assert len(sleeps) == 3
    assert 0.5 <= sleeps[0] <= 1.0 and 1.0 <= sleeps[1] <= 2.0
    assert 0.5 <= sleeps[2] <= 1.0  # second batch: from the base again


def client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "no"}}, "PutRecordBatch")


class Raising:
    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    def put_record_batch(self, *, DeliveryStreamName: str, Records: list[dict[str, bytes]]) -> dict[str, Any]:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return {"FailedPutCount": 0, "RequestResponses": [{"RecordId": "r"} for _ in Records]}


@pytest.mark.parametrize("code", ["ResourceNotFoundException", "InvalidArgumentException", "AccessDeniedException"])
def test_put_all_stops_at_once_when_retrying_cannot_help(code: str) -> None:
    client = Raising(client_error(code))
    with pytest.raises(StreamUnusable, match=f"PutRecordBatch to tweets failed.*{code}"):
        put_all(client, "tweets", [b"a"], no_sleep_policy([]))
    assert client.calls == 1


def test_put_all_retries_call_level_errors_and_reports_the_last_reason() -> None:
    flaky = Raising(client_error("ServiceUnavailableException"), EndpointConnectionError(endpoint_url="https://x"))
    assert put_all(flaky, "s", [b"a", b"b"], no_sleep_policy([])) == (3, {})
    down = Raising(*[EndpointConnectionError(endpoint_url="https://x")] * 5)
    calls, failed = put_all(down, "s", [b"a"], no_sleep_policy([], attempts=2))
    assert calls == 2
    assert failed[0].code == "EndpointConnectionError"


def test_put_all_refuses_a_record_over_1000_kib_before_any_call() -> None:
    client = ScriptedFirehose([])
    with pytest.raises(RecordTooLarge):
        put_all(client, "s", [b"a", b"x" * (1000 * 1024 + 1)], no_sleep_policy([]))
    assert client.calls == []


class Answering:
    def __init__(self, responses: list[dict[str, str]]) -> None:
        self.responses = responses

    def put_record_batch(self, *, DeliveryStreamName: str, Records: list[dict[str, bytes]]) -> dict[str, Any]:
        return {"RequestResponses": self.responses}


def test_put_once_returns_the_failed_entries_by_the_caller_s_index() -> None:
    records = [b"a", b"b", b"c", b"d"]
    client = Answering([{"RecordId": "1"}, {"ErrorCode": "InternalFailure", "ErrorMessage": "oops"}])
    assert put_once(client, "s", records, [3, 1]) == {1: EntryError("InternalFailure", "oops")}


def test_put_once_counts_every_record_failed_when_the_response_does_not_match() -> None:
    client = Answering([{"RecordId": "1"}])
    failed = put_once(client, "s", [b"a", b"b"], [0, 1])
    assert list(failed) == [0, 1]
    assert failed[0].code == "ResponseMismatch"


def test_retry_failed_stops_when_the_caller_says_so_and_returns_what_still_fails() -> None:
    sent: list[list[int]] = []

    def put(indices: list[int]) -> dict[int, EntryError]:
        sent.append(indices)
        return {i: EntryError("Throttled", "") for i in indices if i % 2}

    asked: list[tuple[int, float]] = []

    def may_retry(calls: int, delay: float, failed: object) -> bool:
        asked.append((calls, delay))
        return calls < 2

    backoff = Backoff(1.0, 10.0, random.Random(0))
    backoff.next()  # left over from an earlier delivery: retry_failed resets it
    slept: list[float] = []
    failed = retry_failed(put, range(5), backoff, may_retry=may_retry, sleep=slept.append)
    assert sent == [[0, 1, 2, 3, 4], [1, 3]]
    assert list(failed) == [1, 3]
    assert [c for c, _ in asked] == [1, 2]
    assert asked[0][1] == 0.0 and slept == []  # call 1 made progress: resent at once
    assert 0.5 <= asked[1][1] <= 1.0  # call 2 accepted nothing: the base step (the leftover step was reset)
