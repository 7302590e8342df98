"""The daemon as a process against the moto server: SIGTERM mid-stream loses nothing; kill -9 loses
nothing either (records are written through to the write-ahead log before they are queued; the 200 ms
group commit only bounds what a power loss could take), and the restart delivers what was in flight."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

from tests.support.firehose import make_stream, read_back
from tests.support.ingester import write_replay
from tests.support.paths import REPO_ROOT

pytestmark = [pytest.mark.moto_server, pytest.mark.slow]

RATE = 1000  # tweets/s


class Daemon:
    """``python -m ingester run`` on a replay; collects the ids it logged as accepted (DEBUG) with their time."""

    def __init__(self, endpoint: str, state: Path, replay: Path, *extra: str) -> None:
        env = {
            **os.environ,
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_REGION": "us-east-1",
            "PYTHONPATH": f"{REPO_ROOT / 'lambda_src'}:{REPO_ROOT}",
            "LOG_LEVEL": "DEBUG",
            "STATUS_INTERVAL_S": "0.2",
        }
        argv = [sys.executable, "-m", "ingester", "run", "--source", "replay", "--replay-file", str(replay)]
        argv += ["--delivery-stream", "tweets", "--state-dir", str(state), "--env-file", "/nonexistent", *extra]
        self.proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=REPO_ROOT)
        self.accepted: list[tuple[str, float]] = []
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", errors="replace").strip()
            self.lines.append(line)
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            msg = entry.get("message", "")
            if msg.startswith("accepted tweet id="):
                ts = datetime.fromisoformat(entry["timestamp"].replace("Z", "+00:00")).timestamp()
                self.accepted.append((msg.split("=", 1)[1], ts))

    def wait_accepted(self, n: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while len(self.accepted) < n:
            assert self.proc.poll() is None, "\n".join(self.lines[-20:])
            assert time.monotonic() < deadline, "daemon too slow"
            time.sleep(0.01)

    def finish(self, timeout: float = 30) -> int:
        code = self.proc.wait(timeout)
        self._reader.join(10)
        return code


def test_sigterm_then_kill_9_then_restart(moto_endpoint: str, tmp_path: Path) -> None:
    make_stream("tweets", "tweets-raw")
    state = tmp_path / "state"

    # 1. SIGTERM mid-stream: exit 0 and every accepted tweet is delivered (nothing left behind)
    first = Daemon(moto_endpoint, state, write_replay(tmp_path / "a.jsonl", 5000), "--rate", str(RATE))
    first.wait_accepted(800)
    first.proc.send_signal(signal.SIGTERM)
    assert first.finish() == 0, "\n".join(first.lines[-20:])
    accepted_1 = {tweet for tweet, _ in first.accepted}
    assert 800 <= len(accepted_1) < 5000
    delivered = {str(item["tweet"]["id"]) for item in read_back("tweets-raw")}  # type: ignore[index]
    assert accepted_1 <= delivered
    assert not list((state / "wal").glob("*.log"))
    assert not list((state / "spool").glob("*.jsonl"))

    # 2. kill -9 mid-stream (batches linger up to 1 s, so records are in flight)
    second = Daemon(moto_endpoint, state, write_replay(tmp_path / "b.jsonl", 5000, start=100_000), "--rate", str(RATE))
    second.wait_accepted(1200)
    second.proc.kill()
    assert second.finish() == -signal.SIGKILL
    assert any("WAL" in line or "accepted" in line for line in second.lines)

    # 3. restart on an empty replay: recovers the WAL into the spool and delivers it
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    third = Daemon(moto_endpoint, state, empty)
    assert third.finish() == 0, "\n".join(third.lines[-20:])
    assert any("recovered" in line and "write-ahead log" in line for line in third.lines), third.lines[-20:]

    delivered = {str(item["tweet"]["id"]) for item in read_back("tweets-raw")}  # type: ignore[index]
    accepted_2 = [tweet for tweet, _ in second.accepted]
    assert len(accepted_2) >= 1200
    lost = [tweet for tweet in accepted_2 if tweet not in delivered]
    assert lost == []
    assert not list((state / "wal").glob("*.log"))
    assert not list((state / "spool").glob("*.jsonl"))
