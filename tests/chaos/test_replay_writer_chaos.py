"""Chaos: the replay source and the Firehose writer in process, under per-record failures, throttles, outages,
a full and a read-only state directory, and stops (SIGTERM) at random moments, then restarts."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from ingester.app import run
from ingester.config import Settings
from ingester.sources.replay import REPLAY_OFFSET_FILE
from tests.chaos.chaos import FAST_TIMINGS, RECOVERY_S, ChaosFirehose, IngesterRun, Schedule, check_invariant
from tests.chaos.conftest import chaos_seconds
from tests.support.faults import ReadOnlyFolder
from tests.support.ingester import tweet_id, write_replay

pytestmark = pytest.mark.chaos


def test_replay_and_writer_keep_the_invariant_under_faults(
    seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seconds = chaos_seconds()
    schedule = Schedule.drawn(
        seed,
        seconds,
        {
            "outage": (2, seconds / 5),
            "throttle": (2, seconds / 4),
            "record_failures": (3, seconds / 4),
            "readonly": (1, 2.0),
            "full": (1, 2.0),
        },
    )
    stops = schedule.moments(schedule.rng.randint(1, 4))
    posts = 4000
    replay = write_replay(tmp_path / "posts.jsonl", posts)
    state = tmp_path / "state"
    state.mkdir()
    disk = ReadOnlyFolder(state)
    disk.install(monkeypatch)
    firehose = ChaosFirehose(schedule)
    context = f"seed {seed}: {schedule.describe()}; stops at {[round(s, 1) for s in stops]}"

    def settings(rate: float | None) -> Settings:
        return Settings(
            source="replay",
            replay_file=replay,
            delivery_stream="chaos",
            state_dir=state,
            rate=rate,
            **FAST_TIMINGS,
        )

    done = threading.Event()

    def storage_faults() -> None:
        while not done.wait(0.05):
            at = firehose.now()
            disk.active = schedule.active("readonly", at)
            disk.full = schedule.active("full", at)
        disk.active = disk.full = False

    faults = threading.Thread(target=storage_faults, daemon=True)
    faults.start()
    restarts = 0
    finished = False
    try:
        # The schedule: runs at a rate that spreads the file over it, each stopped at the next moment (SIGTERM)
        for moment in [*stops, seconds]:
            lifetime = IngesterRun(settings(posts / seconds * 1.5), firehose)
            lifetime.thread.join(timeout=max(0.0, moment - firehose.now()))
            # Read the whole file and delivered all of it (the offset is gone): a new run would start over
            finished = not lifetime.thread.is_alive() and not (state / REPLAY_OFFSET_FILE).exists()
            lifetime.stop(context)
            assert lifetime.codes and lifetime.codes[0] in (0, 1), f"exit {lifetime.codes} ({context})"
            if finished:
                break
            restarts += 1
    finally:
        done.set()
        faults.join(timeout=5)
    if not finished:  # After the faults: one run reads the rest and drains the spool, within the bound
        assert (state / REPLAY_OFFSET_FILE).exists() or firehose.delivered, context
        started = time.monotonic()
        assert run(settings(None), firehose_client=firehose) == 0, context
        recovery = time.monotonic() - started
        assert recovery < RECOVERY_S, f"recovery took {recovery:.1f} s ({context})"
    check_invariant(
        expected=[tweet_id(i) for i in range(posts)],
        delivered=firehose.delivered,
        restarts=restarts,
        context=context,
    )
