"""Firehose writer: batching edges, partial-failure resend, spool and drain, shutdown, dead letters."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from ingester.stats import Stats
from ingester.storage import DeadLetter, SegmentSequence, Spool, Wal
from ingester.writer import FirehoseWriter
from tests.support.ingester import FakeFirehose, throttled, unreachable

MiB = 1024 * 1024
KiB = 1024


class Harness:
    def __init__(self, tmp_path: Path, client: FakeFirehose, **kwargs: object) -> None:
        seq = SegmentSequence(tmp_path / "wal", tmp_path / "spool")
        self.wal = Wal(tmp_path / "wal", seq)
        self.spool = Spool(tmp_path / "spool", seq)
        self.dead = DeadLetter(tmp_path / "dead-letter.jsonl")
        self.stats = Stats()
        self.client = client
        options: dict[str, object] = {
            "linger_s": 0.05,
            "queue_max_records": 100_000,
            "spool_after_s": 1.0,
            "base_backoff_s": 0.001,
            "max_backoff_s": 0.01,
            "shutdown_grace_s": 2.0,
        }
        options.update(kwargs)
        self.writer = FirehoseWriter(
            client,
            "stream",
            wal=self.wal,
            spool=self.spool,
            dead_letter=self.dead,
            stats=self.stats,
            **options,  # type: ignore[arg-type]
        )

    def put(self, records: list[bytes]) -> None:
        for r in records:
            self.writer.put(r, self.wal.append(r))

    def finish(self, *, drain_spool: bool = True) -> None:
        """Close and run the loop in this thread until it returns (records were queued beforehand)."""
        self.writer.close(drain_spool=drain_spool)
        done = threading.Event()
        thread = threading.Thread(target=lambda: (self.writer.run(), done.set()), daemon=True)
        thread.start()
        assert done.wait(30), "writer loop did not finish"
        self.wal.close()


def recs(n: int, size: int = 0, start: int = 0) -> list[bytes]:
    out = []
    for i in range(start, start + n):
        body = json.dumps({"i": i}).encode()
        out.append(body + b" " * max(0, size - len(body)))
    return out


@pytest.mark.parametrize(("n", "expected"), [(499, [499]), (500, [500]), (501, [500, 1]), (1001, [500, 500, 1])])
def test_batches_flush_at_500_records(tmp_path: Path, n: int, expected: list[int]) -> None:
    # Given n small records queued
    h = Harness(tmp_path, FakeFirehose())
    h.put(recs(n))
    # When the writer drains them
    h.finish()
    # Then each call carries at most 500 records, in order, and every record is delivered once
    assert [len(c) for c in h.client.calls] == expected
    assert h.client.delivered == recs(n)
    assert h.stats.get("delivered") == n
    assert h.stats.get("api_calls") == len(expected)


@pytest.mark.parametrize(
    ("last_size", "expected"),
    [(4 * MiB - 4 * 1000 * KiB, [5]), (4 * MiB - 4 * 1000 * KiB + 1, [4, 1])],
)
def test_batches_flush_at_4_mib(tmp_path: Path, last_size: int, expected: list[int]) -> None:
    # Given four 1,000 KiB records and one that makes the total exactly 4 MiB (or one byte more)
    records = recs(4, 1000 * KiB) + recs(1, last_size, start=4)
    h = Harness(tmp_path, FakeFirehose())
    h.put(records)
    h.finish()
    assert [len(c) for c in h.client.calls] == expected
    assert all(sum(map(len, c)) <= 4 * MiB for c in h.client.calls)
    assert h.client.delivered == records


def test_linger_sends_a_partial_batch_without_close(tmp_path: Path) -> None:
    h = Harness(tmp_path, FakeFirehose(), linger_s=0.05)
    h.writer.start()
    h.put(recs(3))
    deadline = time.monotonic() + 10
    while len(h.client.delivered) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert h.client.delivered == recs(3)
    assert [len(c) for c in h.client.calls] == [3]
    h.writer.close(drain_spool=False)
    assert h.writer.join(10)


def test_partial_failure_resends_only_the_failed_entries(tmp_path: Path) -> None:
    # Given Firehose fails entries 1 and 3 of the first call, then accepts everything
    client = FakeFirehose(lambda n, data: {1, 3} if n == 1 else None)
    h = Harness(tmp_path, client)
    h.put(recs(5))
    h.finish()
    # Then the second call carries exactly the two failed records, and nothing is spooled
    assert client.calls[0] == recs(5)
    assert client.calls[1] == [recs(5)[1], recs(5)[3]]
    assert sorted(client.delivered) == sorted(recs(5))
    assert h.stats.get("retried") == 2
    assert h.stats.get("spooled") == 0
    assert h.wal.unsettled() == 0


def test_failed_call_is_retried_with_backoff(tmp_path: Path) -> None:
    client = FakeFirehose(lambda n, data: unreachable() if n <= 2 else None)
    h = Harness(tmp_path, client)
    h.put(recs(10))
    h.finish()
    assert len(client.calls) == 3
    assert client.delivered == recs(10)
    assert h.stats.get("failed_calls") == 2


def wait_for(condition: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_outage_spools_then_drains_in_order(tmp_path: Path) -> None:
    # Given Firehose is down and the writer gives up on a batch at once
    down = threading.Event()
    down.set()
    client = FakeFirehose(lambda n, data: throttled() if down.is_set() else None)
    h = Harness(tmp_path, client, spool_after_s=0.0)
    records = recs(1200)
    h.writer.start()
    h.put(records)
    wait_for(lambda: h.stats.get("spooled") == 1200)
    # When Firehose is back and the writer drains with spool draining enabled
    down.clear()
    h.writer.close(drain_spool=True)
    assert h.writer.join(10)
    h.wal.close()
    # Then everything went through the spool and came out in the original order
    assert h.stats.get("spooled") == 1200
    assert client.delivered == records
    assert h.spool.pending_records == 0
    assert not list((tmp_path / "spool").glob("*.jsonl"))
    assert h.wal.unsettled() == 0
    assert not list((tmp_path / "wal").glob("*.log"))


def test_spool_drain_interleaves_with_live_data(tmp_path: Path) -> None:
    # Given 2,000 records waiting in the spool and 1,000 live ones
    client = FakeFirehose()
    h = Harness(tmp_path, client)
    spooled = [b'{"spool":%d}' % i for i in range(2000)]
    h.spool.write(spooled)
    live = [b'{"live":%d}' % i for i in range(1000)]
    h.put(live)
    h.finish(drain_spool=True)
    # Then calls alternate live / spool while both have data: live data is not starved
    kinds = ["live" if c[0].startswith(b'{"live"') else "spool" for c in client.calls]
    assert kinds[:4] == ["live", "spool", "live", "spool"]
    assert [d for d in client.delivered if d.startswith(b'{"spool"')] == spooled
    assert [d for d in client.delivered if d.startswith(b'{"live"')] == live


def test_shutdown_while_firehose_is_down_spools_everything(tmp_path: Path) -> None:
    client = FakeFirehose(lambda n, data: throttled())
    h = Harness(tmp_path, client, spool_after_s=0.05, shutdown_grace_s=0.2)
    h.put(recs(700))
    h.finish(drain_spool=False)
    assert client.delivered == []
    assert h.spool.pending_records == 700
    assert h.wal.unsettled() == 0
    # And a later writer with a healthy Firehose drains the same spool
    seq = SegmentSequence(tmp_path / "wal", tmp_path / "spool")
    spool = Spool(tmp_path / "spool", seq)
    assert spool.pending_records == 700
    ok = FakeFirehose()
    h2 = Harness(tmp_path, ok)
    h2.finish(drain_spool=True)
    assert ok.delivered == recs(700)


def test_invalid_argument_goes_to_dead_letter(tmp_path: Path) -> None:
    error = ClientError({"Error": {"Code": "InvalidArgumentException", "Message": "bad record"}}, "PutRecordBatch")
    client = FakeFirehose(lambda n, data: error if n == 1 else None)
    h = Harness(tmp_path, client)
    h.put(recs(2))
    h.finish()
    lines = [json.loads(x) for x in (tmp_path / "dead-letter.jsonl").read_text().splitlines()]
    assert [x["reason"] for x in lines] == ["firehose_InvalidArgumentException"] * 2
    assert lines[0]["detail"] == "bad record"
    assert h.stats.get("dead_lettered") == 2
    assert h.wal.unsettled() == 0


def test_queue_is_bounded(tmp_path: Path) -> None:
    # Given a writer that is not running and a queue of 10
    h = Harness(tmp_path, FakeFirehose(), queue_max_records=10)
    h.put(recs(10))
    blocked = threading.Thread(target=h.put, args=(recs(1, start=10),), daemon=True)
    blocked.start()
    blocked.join(0.3)
    # Then the 11th put waits (back-pressure) until the writer drains the queue
    assert blocked.is_alive()
    h.writer.start()
    blocked.join(10)
    assert not blocked.is_alive()
    h.writer.close(drain_spool=False)
    assert h.writer.join(10)
    assert h.client.delivered == recs(11)


def test_queue_above_high_water_spools_live_batches_then_drains(tmp_path: Path) -> None:
    # Given a full queue (Firehose slower than the source): 100 records, QUEUE_MAX_RECORDS=100
    client = FakeFirehose()
    h = Harness(tmp_path, client, queue_max_records=100, max_batch_records=10)
    h.put(recs(100))
    h.writer.start()
    # When the writer works through it (not closing: the overflow rule applies)
    deadline = time.monotonic() + 10
    while h.writer.queue_depth() > 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    h.writer.close(drain_spool=True)
    assert h.writer.join(10)
    # Then batches above the 75 % mark went to disk instead of waiting in memory, and all arrived in the end
    assert h.stats.get("spooled") >= 10
    assert sorted(client.delivered) == sorted(recs(100))
    assert h.spool.pending_records == 0


def test_spool_drains_at_full_speed_while_live_traffic_trickles(tmp_path: Path) -> None:
    # Given 5,000 spooled records and a live batch that lingers for a long time
    client = FakeFirehose()
    h = Harness(tmp_path, client, linger_s=30.0)
    h.spool.write([b'{"spool":%d}' % i for i in range(5000)])
    h.writer.start()
    h.put(recs(1))
    # Then the spool drains without waiting for the live batch's linger deadline
    deadline = time.monotonic() + 10
    while h.spool.has_pending() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not h.spool.has_pending()
    assert len(client.delivered) == 5000
    h.writer.close(drain_spool=False)
    assert h.writer.join(10)
    assert client.delivered[-1] == recs(1)[0]


# -- pacing: progress never waits, only calls that accept nothing escalate; flush within the grace period ----------
class FakeClock:
    """A monotonic clock that only moves when the writer sleeps; every sleep is recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def paced(tmp_path: Path, client: FakeFirehose, clock: FakeClock, **kwargs: object) -> Harness:
    options: dict[str, object] = {"base_backoff_s": 0.1, "max_backoff_s": 2.0, "spool_after_s": 5.0}
    options.update(kwargs)
    return Harness(tmp_path, client, clock=clock, sleep=clock.sleep, **options)


def odd_positions(_n: int, data: list[bytes]) -> set[int]:
    return set(range(1, len(data), 2))


def test_half_of_every_call_failing_never_waits_and_resends_only_the_failed_at_the_head(tmp_path: Path) -> None:
    # Given Firehose fails every other record of every call (a stream shedding half its load)
    client = FakeFirehose(odd_positions)
    clock = FakeClock()
    h = paced(tmp_path, client, clock)
    records = recs(2000)
    h.put(records)
    # When the writer flushes them
    h.finish(drain_spool=False)
    # Then every record is delivered exactly once, without a single backoff wait or spooled record
    assert sorted(client.delivered) == sorted(records)
    assert len(client.delivered) == len(set(client.delivered)) == 2000
    assert clock.sleeps == []
    assert h.stats.get("spooled") == 0
    assert h.writer.healthy
    # And the second call carries the 250 failed records first, topped up with new ones to a full call
    assert client.calls[1][:250] == client.calls[0][1::2]
    assert client.calls[1][250:] == records[500:750]
    assert h.wal.unsettled() == 0


def test_only_calls_that_accept_nothing_escalate_and_progress_resets_the_backoff(tmp_path: Path) -> None:
    # Given calls 1-3 throttled, call 4 partly accepted, call 5 throttled, then all accepted
    def behaviour(n: int, data: list[bytes]) -> set[int] | ClientError | None:
        if n in (1, 2, 3, 5):
            return throttled()
        return {0} if n == 4 else None

    clock = FakeClock()
    h = paced(tmp_path, FakeFirehose(behaviour), clock)
    h.put(recs(10))
    h.finish(drain_spool=False)
    # Then the waits double while nothing is accepted and start from the base again after progress
    assert len(clock.sleeps) == 4
    first, second, third, after_progress = clock.sleeps
    assert 0.05 <= first <= 0.1 and 0.1 <= second <= 0.2 and 0.2 <= third <= 0.4
    assert 0.05 <= after_progress <= 0.1
    assert sorted(h.client.delivered) == recs(10)
    assert h.stats.get("spooled") == 0


def test_nothing_accepted_for_spool_after_s_turns_degraded_and_a_probe_with_progress_ends_it(tmp_path: Path) -> None:
    # Given Firehose accepts nothing, then (after the switch) fails the last record of every call of two or more
    down = threading.Event()
    down.set()
    healthy_at_call: list[tuple[int, bool]] = []
    h: Harness

    def behaviour(n: int, data: list[bytes]) -> set[int] | ClientError | None:
        if down.is_set():
            return throttled()
        healthy_at_call.append((len(data), h.writer.healthy))
        return {len(data) - 1} if len(data) > 1 else None

    client = FakeFirehose(behaviour)
    h = Harness(tmp_path, client, spool_after_s=0.0)
    h.writer.start()
    h.put(recs(600))
    wait_for(lambda: h.stats.get("spooled") == 600)
    assert not h.writer.healthy
    # When Firehose is back but never accepts a whole call
    down.clear()
    wait_for(lambda: h.writer.healthy)
    h.writer.close(drain_spool=True)
    assert h.writer.join(10)
    # Then the first probe's progress ended degraded mode (later calls of many records ran healthy) and
    # every record arrived exactly once
    assert healthy_at_call[0][1] is False
    assert any(size > 1 and healthy for size, healthy in healthy_at_call[1:])
    assert sorted(client.delivered) == sorted(recs(600))
    assert len(client.delivered) == 600
    assert h.spool.pending_records == 0


def test_the_closing_flush_keeps_retrying_within_the_grace_period_even_when_degraded(tmp_path: Path) -> None:
    # Given Firehose refuses the first 8 calls, a writer that turns degraded at once, and SIGTERM (interrupt)
    client = FakeFirehose(lambda n, data: throttled() if n <= 8 else None)
    clock = FakeClock()
    h = paced(tmp_path, client, clock, spool_after_s=0.0, shutdown_grace_s=10.0)
    h.put(recs(1200))
    h.writer.close(drain_spool=False)
    h.writer.interrupt()
    h.finish(drain_spool=False)
    # Then the flush retried with backoff instead of spooling after one try, and delivered everything in time
    assert sorted(client.delivered) == sorted(recs(1200))
    assert h.stats.get("spooled") == 0
    assert len(client.calls) == 8 + 3
    assert sum(clock.sleeps) <= 10.0
    assert h.wal.unsettled() == 0


def test_the_closing_flush_spools_what_is_left_when_the_grace_period_is_up(tmp_path: Path) -> None:
    # Given Firehose refuses every call and a grace period of 3 s
    client = FakeFirehose(lambda n, data: throttled())
    clock = FakeClock()
    h = paced(tmp_path, client, clock, shutdown_grace_s=3.0)
    h.put(recs(1200))
    h.finish(drain_spool=False)
    # Then it kept trying (several calls, waits never past the deadline), then spooled everything, losing nothing
    assert len(client.calls) > 3
    assert sum(clock.sleeps) <= 3.0 + 1e-9
    assert h.stats.get("spooled") == 1200
    assert h.spool.pending_records == 1200
    assert h.wal.unsettled() == 0
