"""Full disk and spool cap: nothing accepted is lost, the source pauses, status and metrics say so; fewer
repeats after restarts (replay offset); NaN/Infinity input is rejected."""

from __future__ import annotations

import errno
import json
import threading
import time
from pathlib import Path

import pytest

from ingester.app import run
from ingester.config import Settings
from ingester.envelope import MalformedMessage, from_replay_line, from_stream_message
from ingester.metrics import MetricsPublisher
from ingester.pipeline import Pipeline
from ingester.sources.replay import REPLAY_OFFSET_FILE, ReplaySource
from ingester.stats import STATUS_RESERVE_BYTES, Stats, read_status, write_status
from ingester.storage import DeadLetter, SegmentSequence, Spool, StorageError, Wal
from ingester.writer import FirehoseWriter
from tests.support.ingester import FakeFirehose, ListSink, stream_message, tweet_id, unreachable, write_replay


def wait_for(predicate: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


class Rig:
    """A running writer on a spool capped at ``cap`` bytes, behind a pipeline, Firehose down until ``up``."""

    def __init__(self, tmp_path: Path, cap: int) -> None:
        self.up = threading.Event()
        self.client = FakeFirehose(lambda n, data: None if self.up.is_set() else unreachable())
        seq = SegmentSequence(tmp_path / "wal", tmp_path / "spool")
        self.wal = Wal(tmp_path / "wal", seq)
        self.spool = Spool(tmp_path / "spool", seq, max_bytes=cap)
        self.stats = Stats()
        dead = DeadLetter(tmp_path / "dead-letter.jsonl")
        self.writer = FirehoseWriter(
            self.client,
            "s",
            wal=self.wal,
            spool=self.spool,
            dead_letter=dead,
            stats=self.stats,
            linger_s=0.01,
            queue_max_records=50,
            spool_after_s=0.05,
            base_backoff_s=0.01,
            max_backoff_s=0.05,
        )
        self.stop = threading.Event()
        self.pipeline = Pipeline(
            wal=self.wal, writer=self.writer, dead_letter=dead, stats=self.stats, dedupe_window=0, stop_event=self.stop
        )


N = 3000


def test_spool_cap_pauses_intake_and_loses_nothing(tmp_path: Path) -> None:
    # Given Firehose down and a spool capped at 100 kB (about 130 records of ~780 bytes)
    rig = Rig(tmp_path, cap=100_000)
    rig.writer.start()
    fed: list[int] = []

    def feed() -> None:
        for i in range(N):
            if rig.pipeline.accept(from_stream_message(stream_message(i, text="x" * 300), source="x")):
                fed.append(i)

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    # When the spool reaches its cap: the writer holds what it refused and the source is blocked
    # (an empty spool takes one batch whatever its size; after that the cap holds)
    wait_for(lambda: rig.stats.snapshot()["storage_state"] == "spool_full")
    spool_bytes, accepted = rig.spool.pending_bytes, len(fed)
    time.sleep(0.3)
    assert feeder.is_alive()  # paused: the queue (50) is full, nothing more is taken
    assert len(fed) < N
    assert rig.spool.pending_bytes == spool_bytes
    assert len(fed) <= accepted + 50 + 1
    assert rig.stats.get("storage_errors") >= 1
    # Then once Firehose is back, everything accepted arrives, each once
    rig.up.set()
    feeder.join(30)
    assert not feeder.is_alive()
    wait_for(lambda: len(rig.client.delivered) >= N)
    rig.writer.close(drain_spool=True)
    assert rig.writer.join(20)
    assert sorted(rig.client.delivered_ids()) == sorted(tweet_id(i) for i in range(N))
    assert rig.stats.snapshot()["storage_state"] == "ok"
    rig.wal.close()
    assert not list((tmp_path / "wal").glob("*.log"))


def test_wal_refusing_writes_pauses_the_source_until_it_can_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig = Rig(tmp_path, cap=1 << 20)
    real_append = rig.wal.append
    refuse = threading.Event()
    refuse.set()

    def append(data: bytes) -> int:
        if refuse.is_set():
            raise StorageError("ENOSPC", "write-ahead log: no space")
        return real_append(data)

    monkeypatch.setattr(rig.wal, "append", append)
    result: list[bool] = []
    thread = threading.Thread(
        target=lambda: result.append(rig.pipeline.accept(from_stream_message(stream_message(1), source="x"))),
        daemon=True,
    )
    thread.start()
    wait_for(lambda: rig.stats.snapshot()["source_paused"] == "storage: ENOSPC")
    assert rig.stats.snapshot()["storage_state"] == "paused"
    assert rig.stats.get("accepted") == 0
    refuse.clear()
    thread.join(10)
    assert result == [True]
    assert rig.stats.get("accepted") == 1
    assert rig.stats.snapshot()["source_paused"] is None
    # Stopping while paused: the message is counted as dropped, never as accepted
    refuse.set()
    rig.stop.set()
    assert rig.pipeline.accept(from_stream_message(stream_message(2), source="x")) is False
    assert rig.stats.dropped() == {"storage_unavailable_at_stop": 1}


def test_status_is_written_in_place_when_the_disk_is_full(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_status(tmp_path, {"read": 1}, {"state": "running"})
    assert (tmp_path / "status.json").stat().st_size == STATUS_RESERVE_BYTES

    def full(self: Path, data: bytes) -> int:
        self.write_text("")  # the file is created, then the disk refuses its bytes
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full)
    write_status(tmp_path, {"read": 2, "storage_errors": 3}, {"state": "running"})
    status = read_status(tmp_path)
    assert status["read"] == 2 and status["storage_errors"] == 3
    assert (tmp_path / "status.json").stat().st_size == STATUS_RESERVE_BYTES
    assert not list(tmp_path.glob(".status.json.*"))


def test_spool_full_percent_and_storage_errors_metrics() -> None:
    publisher = MetricsPublisher(object(), "NS", "tweets")  # type: ignore[arg-type]
    data = publisher.build({"spool_bytes": 750, "spool_max_bytes": 1000, "storage_errors": 4})
    by_name = {m["MetricName"]: m for m in data}
    assert by_name["SpoolFullPercent"]["Value"] == 75.0
    assert by_name["SpoolFullPercent"]["Unit"] == "Percent"
    assert by_name["SpoolFullPercent"]["Dimensions"] == [{"Name": "DeliveryStream", "Value": "tweets"}]
    assert by_name["StorageErrors"]["Value"] == 4 and by_name["StorageErrors"]["Unit"] == "Count"
    over = publisher.build({"spool_bytes": 5000, "spool_max_bytes": 1000})
    assert next(m for m in over if m["MetricName"] == "SpoolFullPercent")["Value"] == 100.0


def _settings(tmp_path: Path, replay: Path, **kwargs: object) -> Settings:
    return Settings(
        source="replay",
        replay_file=replay,
        delivery_stream="demo",
        state_dir=tmp_path / "state",
        linger_ms=20,
        **kwargs,  # type: ignore[arg-type]
    )


class StopAfter(ListSink):
    """Sets ``stop`` once it has accepted ``n`` envelopes (a SIGTERM mid-file)."""

    def __init__(self, n: int, stop: threading.Event) -> None:
        super().__init__()
        self.n, self.stop = n, stop

    def accept(self, envelope: dict[str, object]) -> bool:
        super().accept(envelope)
        if len(self.accepted) == self.n:
            self.stop.set()
        return True


def test_replay_resumes_after_a_stop_and_starts_over_after_the_end(tmp_path: Path) -> None:
    replay = write_replay(tmp_path / "t.jsonl", 100)
    offset_file = tmp_path / REPLAY_OFFSET_FILE
    # Stopped after 40 lines: the offset is kept
    first = StopAfter(40, threading.Event())
    ReplaySource(replay, offset_file=offset_file).run(first, first.stop)
    assert len(first.accepted) == 40
    assert offset_file.exists()
    # The next run takes the 60 lines the first did not: no repeats; it reaches the end, the offset says so
    second = ListSink()
    ReplaySource(replay, offset_file=offset_file).run(second, threading.Event())
    ids = [e["tweet"]["id"] for e in first.accepted + second.accepted]
    assert ids == [tweet_id(i) for i in range(100)]
    assert json.loads(offset_file.read_text())["finished"] is True
    # Until what it read is delivered, a new run reads nothing (the spool delivers it)
    waiting = ListSink()
    ReplaySource(replay, offset_file=offset_file).run(waiting, threading.Event())
    assert waiting.accepted == []
    # Once delivered (the app calls drained), the offset goes and a third run replays the file whole
    ReplaySource(replay, offset_file=offset_file).drained()
    assert not offset_file.exists()
    third = ListSink()
    ReplaySource(replay, offset_file=offset_file).run(third, threading.Event())
    assert len(third.accepted) == 100


def test_replay_that_reached_its_limit_starts_over(tmp_path: Path) -> None:
    replay = write_replay(tmp_path / "t.jsonl", 100)
    client = FakeFirehose()
    for _ in range(2):
        assert run(_settings(tmp_path, replay, limit=40), firehose_client=client) == 0
    assert client.delivered_ids() == [tweet_id(i) for i in range(40)] * 2


def test_a_replay_read_to_its_end_while_firehose_is_down_is_not_sent_twice_after_a_restart(tmp_path: Path) -> None:
    # Given a replay of 500 posts read to its end while Firehose refuses every call
    replay = write_replay(tmp_path / "t.jsonl", 500)
    down = FakeFirehose(lambda n, data: unreachable())
    stop = threading.Event()
    settings = _settings(
        tmp_path, replay, spool_after_s=0.05, max_backoff_s=0.05, shutdown_grace_s=0.2, status_interval_s=0.05
    )
    codes: list[int] = []
    first = threading.Thread(
        target=lambda: codes.append(run(settings, firehose_client=down, stop_event=stop)), daemon=True
    )
    first.start()
    try:
        wait_for(lambda: _status(tmp_path / "state").get("read") == 500)
    finally:  # When it is stopped (SIGTERM) and started again with Firehose back
        stop.set()
    first.join(timeout=30)
    assert codes == [0]
    up = FakeFirehose()
    assert run(settings, firehose_client=up) == 0
    # Then every post is delivered once, and the replay starts over on the run after that
    assert sorted(up.delivered_ids()) == sorted(tweet_id(i) for i in range(500))
    assert not (tmp_path / "state" / REPLAY_OFFSET_FILE).exists()


def _status(state_dir: Path) -> dict[str, object]:
    try:
        return read_status(state_dir)
    except (OSError, ValueError):
        return {}


def test_replay_offset_of_another_file_is_ignored(tmp_path: Path) -> None:
    offset_file = tmp_path / REPLAY_OFFSET_FILE
    first = StopAfter(10, threading.Event())
    ReplaySource(write_replay(tmp_path / "a.jsonl", 30), offset_file=offset_file).run(first, first.stop)
    assert offset_file.exists()
    other = ListSink()
    ReplaySource(write_replay(tmp_path / "b.jsonl", 20, start=100), offset_file=offset_file).run(
        other, threading.Event()
    )
    assert len(other.accepted) == 20


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_rejected(constant: str) -> None:
    message = json.dumps(stream_message(1)).replace('"like_count": 1', f'"like_count": {constant}')
    assert constant in message
    with pytest.raises(MalformedMessage) as caught:
        from_replay_line(message)
    assert caught.value.reason == "non_finite_number"
