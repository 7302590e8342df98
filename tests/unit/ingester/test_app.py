"""ingester.app.run end to end with a fake Firehose client (the Python API the demo uses)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import jsonschema

from ingester.app import StateLock, run
from ingester.cli import format_status, main
from ingester.config import Settings
from ingester.stats import read_status
from ingester.storage import SegmentSequence, Spool
from tests.support.ingester import FakeFirehose, stream_message, throttled, tweet_id, write_replay
from tests.support.paths import SCHEMAS_DIR

SCHEMA = json.loads((SCHEMAS_DIR / "envelope.schema.json").read_text())


def settings(tmp_path: Path, replay: Path, **kwargs: object) -> Settings:
    values: dict[str, object] = {"linger_ms": 20, **kwargs}
    return Settings(
        source="replay",
        replay_file=replay,
        delivery_stream="demo",
        state_dir=tmp_path / "state",
        **values,  # type: ignore[arg-type]
    )


def test_replay_delivers_every_tweet_and_exits_0(tmp_path: Path) -> None:
    replay = write_replay(tmp_path / "t.jsonl", 1234)
    with replay.open("a") as handle:
        handle.write("{not json\n\n")
        handle.write(json.dumps(stream_message(5)) + "\n")  # a duplicate
    client = FakeFirehose()
    # A linger far longer than the run, so only full batches and the end-of-input flush make calls: with the
    # default 20 ms a loaded machine can fall behind the reader and flush a part batch on age (a 4th call).
    assert run(settings(tmp_path, replay, linger_ms=60_000), firehose_client=client) == 0
    assert sorted(client.delivered_ids()) == sorted(tweet_id(i) for i in range(1234))
    assert len(client.calls) == 3
    validator = jsonschema.Draft202012Validator(SCHEMA)
    for data in client.delivered[:50]:
        validator.validate(json.loads(data))
    status = read_status(tmp_path / "state")
    assert status["state"] == "stopped"
    assert status["read"] == 1236
    assert status["delivered"] == 1234
    assert status["duplicates"] == 1
    assert status["dropped"] == {"invalid_json": 1}
    assert not list((tmp_path / "state" / "wal").glob("*.log"))
    text = format_status(status)
    assert "delivered        1234" in text and "invalid_json=1" in text


def test_a_line_nested_too_deeply_is_skipped_and_the_replay_goes_on(tmp_path: Path) -> None:
    # Before: json.loads' RecursionError escaped the replay source, the daemon exited 1 at that line, and every
    # restart stopped at the same line again.
    replay = write_replay(tmp_path / "t.jsonl", 3)
    with replay.open("a") as handle:
        handle.write('{"data": {"id": "9", "text": "x", "deep": ' + "[" * 100_000 + "]" * 100_000 + "}}\n")
        handle.write(json.dumps(stream_message(3)) + "\n")
    client = FakeFirehose()
    assert run(settings(tmp_path, replay), firehose_client=client) == 0
    assert sorted(client.delivered_ids()) == sorted(tweet_id(i) for i in range(4))
    assert read_status(tmp_path / "state")["dropped"] == {"invalid_json": 1}


def test_stop_event_flushes_and_returns_0(tmp_path: Path) -> None:
    replay = write_replay(tmp_path / "t.jsonl", 1000)
    client = FakeFirehose()
    stop = threading.Event()
    result: list[int] = []
    thread = threading.Thread(
        target=lambda: result.append(
            run(settings(tmp_path, replay, rate=200.0), firehose_client=client, stop_event=stop)
        )
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not (tmp_path / "state" / "status.json").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    stop.set()
    thread.join(15)
    assert result == [0]
    status = read_status(tmp_path / "state")
    # Everything read was delivered (nothing left in the queue or the WAL), and the replay stopped early
    assert 0 < status["read"] < 1000
    assert len(client.delivered) == status["read"]


def test_limit_stops_after_n_and_loop_repeats(tmp_path: Path) -> None:
    replay = write_replay(tmp_path / "t.jsonl", 10)
    client = FakeFirehose()
    assert run(settings(tmp_path, replay, loop=True, limit=25), firehose_client=client) == 0
    assert len(client.delivered) == 25  # 2.5 passes: each pass re-sends the file
    assert client.delivered_ids()[:10] == client.delivered_ids()[10:20]


def test_leftover_spool_is_drained_before_a_replay_exits(tmp_path: Path) -> None:
    state = tmp_path / "state"
    spool = Spool(state / "spool", SegmentSequence(state / "spool"))
    spool.write([b'{"left":%d}' % i for i in range(3)])
    spool.close()
    replay = write_replay(tmp_path / "t.jsonl", 2)
    client = FakeFirehose()
    assert run(settings(tmp_path, replay), firehose_client=client) == 0
    assert len(client.delivered) == 5
    assert not list((state / "spool").glob("*.jsonl"))


def test_outage_during_replay_spools_and_stop_leaves_it_on_disk(tmp_path: Path) -> None:
    replay = write_replay(tmp_path / "t.jsonl", 300)
    client = FakeFirehose(lambda n, data: throttled())
    stop = threading.Event()
    result: list[int] = []
    s = settings(tmp_path, replay, spool_after_s=0.05, max_backoff_s=0.05)
    thread = threading.Thread(target=lambda: result.append(run(s, firehose_client=client, stop_event=stop)))
    thread.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        spooled = sum(p.read_bytes().count(b"\n") for p in (tmp_path / "state" / "spool").glob("*.jsonl"))
        if spooled == 300:
            break
        time.sleep(0.05)
    stop.set()
    thread.join(15)
    assert result == [0]
    spooled = sum(p.read_bytes().count(b"\n") for p in (tmp_path / "state" / "spool").glob("*.jsonl"))
    assert spooled == 300
    assert client.delivered == []


def test_config_error_returns_2(tmp_path: Path) -> None:
    s = Settings(source="replay", replay_file=tmp_path / "missing.jsonl", delivery_stream="d", state_dir=tmp_path)
    assert run(s, firehose_client=FakeFirehose()) == 2


def test_second_instance_on_the_same_state_dir_is_refused(tmp_path: Path) -> None:
    replay = write_replay(tmp_path / "t.jsonl", 1)
    (tmp_path / "state").mkdir()
    lock = StateLock(tmp_path / "state")
    lock.acquire()
    try:
        assert run(settings(tmp_path, replay), firehose_client=FakeFirehose()) == 2
    finally:
        lock.release()


def test_cli_config_error_exit_code_and_message(tmp_path: Path, capsys: object) -> None:
    code = main(["run", "--source", "replay", "--env-file", str(tmp_path / "none"), "--delivery-stream", "d"])
    assert code == 2


def test_cli_status_without_state_file(tmp_path: Path) -> None:
    assert main(["status", "--state-dir", str(tmp_path)]) == 1


def test_status_with_a_malformed_state_file_is_a_message_not_a_traceback(tmp_path: Path, capsys: object) -> None:
    (tmp_path / "status.json").write_text('{"state": "running", "pid": 1, "dropped": 5, "connected_since": 7}')
    assert main(["status", "--state-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err  # type: ignore[attr-defined]
    assert "unexpected values" in err and "--json" in err
    assert main(["status", "--state-dir", str(tmp_path), "--json"]) == 0


def test_status_flags_a_dead_daemon(tmp_path: Path, capsys: object) -> None:
    from ingester.stats import Stats, write_status

    write_status(tmp_path, Stats().snapshot(), {"state": "running", "source": "x", "delivery_stream": "d"})
    status = read_status(tmp_path)
    assert "running   (pid" in format_status(status)  # this process is alive and the file is fresh
    status["pid"] = 2**22 + 12345  # no such process
    assert "not running" in format_status(status)
    status["pid"] = 1
    assert "not updating" in format_status(status, now=time.time() + 3600)
    assert main(["status", "--state-dir", str(tmp_path), "--json"]) == 0


def test_writer_crash_exits_1_and_the_wal_keeps_the_tweets(tmp_path: Path) -> None:
    # Given a Firehose client that blows up with something unexpected (a bug, not an AWS error)
    replay = write_replay(tmp_path / "t.jsonl", 20)

    def explode(n: int, data: list[bytes]) -> BaseException:
        return RuntimeError("unexpected")

    assert run(settings(tmp_path, replay), firehose_client=FakeFirehose(explode)) == 1
    # Then the next start recovers every accepted tweet from the WAL and delivers it
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    client = FakeFirehose()
    assert run(settings(tmp_path, empty), firehose_client=client) == 0
    assert sorted(set(client.delivered_ids())) == sorted(tweet_id(i) for i in range(20))


def test_periodic_stats_line_is_one_json_object(tmp_path: Path, capsys: object) -> None:
    import io
    import logging

    from ingester import logsetup

    replay = write_replay(tmp_path / "t.jsonl", 5)
    stream = io.StringIO()
    logsetup.configure("INFO")
    logging.getLogger().handlers[0].setStream(stream)  # type: ignore[attr-defined]
    assert run(settings(tmp_path, replay, stats_interval_s=0.05), firehose_client=FakeFirehose()) == 0
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    stats_lines = [entry for entry in lines if entry["message"] == "stats"]
    assert stats_lines, lines
    last = stats_lines[-1]["stats"]
    assert last["delivered"] == 5 and last["read"] == 5 and last["state"] == "stopped"
    assert {"tweets_per_s", "spool_records", "dropped", "queue_depth", "firehose_healthy"} <= set(last)
    assert all(entry["level"] in {"INFO", "WARNING"} for entry in lines)
