"""Chaos: the X source (fake X API) and the writer in process, under 429s and 503s, connections cut mid-line,
stalls, lines over the limit, Firehose faults, and stops at random moments, then restarts."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pytest

from ingester.config import Settings
from tests.chaos.chaos import (
    FAST_TIMINGS,
    RECOVERY_S,
    ChaosFirehose,
    IngesterRun,
    Schedule,
    check_invariant,
    run_until,
)
from tests.chaos.conftest import chaos_seconds
from tests.support.fake_x import Connection, FakeX, serve
from tests.support.ingester import stream_message, tweet_id

pytestmark = pytest.mark.chaos


class AcceptedLog(logging.Handler):
    """The ids the pipeline accepted (its DEBUG ``accepted tweet id=`` lines): what the invariant is about, since X
    does not resend what a client missed."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.ids: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == "accepted tweet id=%s":
            self.ids.append(str(record.args[0]) if isinstance(record.args, tuple) else "")


def connections(schedule: Schedule, count: int) -> tuple[list[Connection], int]:
    """Scripted connections: each a status, or posts with keep-alives and a way to end (cut, stall, clean end)."""
    rng = schedule.rng
    scripted: list[Connection] = []
    n = 0
    for _ in range(count):
        roll = rng.random()
        if roll < 0.15:
            scripted.append(Connection(status=rng.choice([429, 503])))
            continue
        steps: list[tuple[str, Any]] = []
        for _ in range(rng.randint(5, 60)):
            steps.append(("line", stream_message(n)))
            n += 1
            if rng.random() < 0.2:
                steps.append(("keepalive", None))
            if rng.random() < 0.02:
                steps.append(("line", b'{"data": {"id": "9", "text": "' + b"x" * (5 * 1024 * 1024) + b'"}}'))
            if rng.random() < 0.05:
                steps.append(("sleep", rng.uniform(0.05, 0.3)))
        ending = rng.random()
        if ending < 0.4:
            steps.append(("cut", b'{"data": {"id": "1000'))
        elif ending < 0.6:
            steps.append(("stall", 2.0))
        else:
            steps.append(("end", None))
        scripted.append(Connection(steps=steps))
    return scripted, n


def test_x_source_keeps_the_invariant_under_faults(seed: int, tmp_path: Path) -> None:
    seconds = chaos_seconds()
    schedule = Schedule.drawn(seed, seconds, {"outage": (2, seconds / 5), "record_failures": (2, seconds / 4)})
    stops = schedule.moments(schedule.rng.randint(1, 3))
    scripted, total = connections(schedule, 400)
    fake = FakeX(connections=scripted)
    firehose = ChaosFirehose(schedule)
    accepted = AcceptedLog()
    pipeline_log = logging.getLogger("ingester.pipeline")
    level = pipeline_log.level
    pipeline_log.setLevel(logging.DEBUG)
    pipeline_log.addHandler(accepted)

    def settings() -> Settings:
        return Settings(
            source="x",
            delivery_stream="chaos",
            tracked_terms=("aws",),
            x_bearer_token="test-token",
            x_api_base_url=fake.url,
            x_sync_rules=False,
            x_usage_interval_s=0,
            stall_timeout_s=0.5,
            x_reconnect_backoff_scale=0.01,
            state_dir=tmp_path / "state",
            **FAST_TIMINGS,
        )

    restarts = 0
    try:
        with serve(fake):
            for moment in [*stops, seconds]:
                run_until(settings(), firehose, moment, f"seed {seed}")
                restarts += 1
            # After the faults: a run delivers what the last ones left in the WAL and the spool, within the bound
            started = time.monotonic()
            last = IngesterRun(settings(), firehose)
            while set(accepted.ids) - set(firehose.delivered) and time.monotonic() - started < RECOVERY_S:
                time.sleep(0.1)
            recovery = time.monotonic() - started
            last.stop(f"seed {seed}")
    finally:
        pipeline_log.removeHandler(accepted)
        pipeline_log.setLevel(level)
    stopped_at = [round(s, 1) for s in stops]
    context = f"seed {seed}: {schedule.describe()}; stops at {stopped_at}; {fake.stream_attempts} connections"
    assert recovery < RECOVERY_S, f"not delivered within {RECOVERY_S} s after the faults ({context})"
    assert accepted.ids, context
    check_invariant(
        expected=set(accepted.ids),
        delivered=[i for i in firehose.delivered if i in set(accepted.ids)],
        restarts=restarts,
        context=context,
    )
    assert set(firehose.delivered) <= {tweet_id(i) for i in range(total)}, context
