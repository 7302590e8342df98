"""Chaos: the ingester as a process (replay source) against a local Firehose endpoint, stopped with SIGTERM or
killed with kill -9 at random moments while Firehose comes and goes, then restarted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.chaos.chaos import DUPLICATES_PER_RESTART, RECOVERY_S, Schedule, check_invariant
from tests.chaos.conftest import chaos_seconds
from tests.support.firehose_endpoint import FirehoseEndpoint
from tests.support.ingester import tweet_id, write_replay
from tests.support.paths import REPO_ROOT

pytestmark = pytest.mark.chaos


def start(
    firehose: FirehoseEndpoint, replay: Path, state: Path, log: Path, rate: float | None
) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "ingester", "run", "--source", "replay", "--replay-file", str(replay)]
    argv += ["--delivery-stream", "tweets", "--state-dir", str(state), "--env-file", "/nonexistent"]
    if rate is not None:
        argv += ["--rate", str(rate)]
    environ = {
        **os.environ,
        "AWS_ENDPOINT_URL": firehose.url,
        "AWS_REGION": "us-east-1",
        "PYTHONPATH": f"{REPO_ROOT / 'lambda_src'}:{REPO_ROOT}",
        "STATUS_INTERVAL_S": "0.2",
        "SPOOL_AFTER_S": "0.2",
        "MAX_BACKOFF_S": "0.3",
        "LINGER_MS": "50",
        "WAL_COMMIT_MS": "20",
        "SHUTDOWN_GRACE_S": "1",
    }
    with log.open("ab") as out:
        return subprocess.Popen(argv, env=environ, stdout=out, stderr=subprocess.STDOUT, cwd=REPO_ROOT)


def test_sigterm_and_kill_9_at_random_moments_keep_the_invariant(seed: int, tmp_path: Path) -> None:
    seconds = chaos_seconds()
    schedule = Schedule.drawn(seed, seconds, {"outage": (3, seconds / 4)})
    moments = schedule.moments(schedule.rng.randint(2, 5))
    signals = [schedule.rng.choice([signal.SIGTERM, signal.SIGKILL]) for _ in moments]
    posts = 3000
    replay = write_replay(tmp_path / "posts.jsonl", posts)
    state, log = tmp_path / "state", tmp_path / "ingester.log"
    kills = 0
    context = f"seed {seed}: {schedule.describe()}; " + ", ".join(
        f"{signal.Signals(s).name} at {m:.1f}s" for s, m in zip(signals, moments, strict=True)
    )
    with FirehoseEndpoint() as firehose:
        began = time.monotonic()
        finished = False
        for moment, sig in [*zip(moments, signals, strict=True), (seconds, None)]:
            proc = start(firehose, replay, state, log, posts / seconds * 1.5)
            while time.monotonic() - began < moment and proc.poll() is None:
                if schedule.active("outage", time.monotonic() - began):
                    firehose.up.clear()
                else:
                    firehose.up.set()
                time.sleep(0.05)
            if proc.poll() is not None:  # read the whole file and delivered it
                finished = proc.returncode == 0
                break
            proc.send_signal(sig or signal.SIGTERM)
            code = proc.wait(60)
            # SIGTERM before the handler is installed (during start-up) ends the process as a kill would
            kills += code != 0
            assert code in (0, -signal.SIGKILL, -signal.SIGTERM), f"exit {code} ({context}); {log.read_text()[-3000:]}"
        firehose.up.set()
        if not finished:  # After the faults: one run reads the rest and drains the spool
            recovery_started = time.monotonic()
            proc = start(firehose, replay, state, log, None)
            assert proc.wait(RECOVERY_S + 30) == 0, f"{context}; log:\n{log.read_text()[-3000:]}"
            recovery = time.monotonic() - recovery_started
            assert recovery < RECOVERY_S, f"recovery took {recovery:.1f} s ({context})"
        delivered = firehose.tweet_ids()
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]
    result = check_invariant(
        expected=[tweet_id(i) for i in range(posts)], delivered=delivered, restarts=len(moments), context=context
    )
    assert result["duplicates"] <= DUPLICATES_PER_RESTART * max(1, kills), context
