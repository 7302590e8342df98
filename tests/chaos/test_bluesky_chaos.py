"""Chaos: the Bluesky source (two fake Jetstream instances) and the writer in process, under flaky and dead
endpoints, oversized frames, a cursor gap (retention passed while stopped), Firehose faults, and stops at random
moments, then restarts."""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from ingester.config import Settings
from ingester.sources.bluesky import CURSOR_FILE
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
from tests.support.fake_jetstream import BASE_TIME_US, DID, FakeJetstream, fake_jetstream, post_event

pytestmark = pytest.mark.chaos

STEP_US = 10_000  # 100 events a second of Jetstream time
RATE = 150  # events a second appended while the schedule runs


class GapLog(logging.Handler):
    """Collects the gaps the source reports (its ``gap in the Bluesky stream`` lines)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.gaps: list[tuple[int, int]] = []

    def emit(self, record: logging.LogRecord) -> None:
        gap = getattr(record, "gap", None)
        if gap is not None:
            start, end = (int(_micros(gap[key])) for key in ("start", "end"))
            self.gaps.append((start, end))


def _micros(iso: str) -> int:
    from datetime import datetime

    moment = datetime.fromisoformat(iso)
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


def test_bluesky_source_keeps_the_invariant_under_faults(seed: int, tmp_path: Path) -> None:
    seconds = chaos_seconds()
    schedule = Schedule.drawn(
        seed,
        seconds,
        {
            "a_dead": (2, seconds / 4),
            "a_flaky": (2, seconds / 3),
            "b_dead": (1, seconds / 6),
            "outage": (1, seconds / 6),
            "record_failures": (2, seconds / 4),
        },
    )
    stops = schedule.moments(schedule.rng.randint(1, 3))
    gap_after_stop = schedule.rng.randrange(len(stops))  # Jetstream's retention passes the cursor while stopped
    a, b = FakeJetstream(v2=schedule.rng.random() < 0.5), FakeJetstream()
    events: dict[str, int] = {}  # matching post id -> its time_us
    oversized: set[str] = set()
    lock = threading.Lock()

    def add(i: int) -> None:
        stamp = BASE_TIME_US + i * STEP_US
        rkey = f"3k{i:07d}"
        matching = i % 3 != 0
        text = f"{'aws' if matching else 'unrelated'} post {i}"
        if matching and schedule.rng.random() < 0.002:
            text += " " + "x" * (5 * 1024 * 1024)
            oversized.add(f"at://{DID}/app.bsky.feed.post/{rkey}")
        frame = json.dumps(post_event(stamp, text, rkey=rkey))
        with lock:
            if matching:
                events[f"at://{DID}/app.bsky.feed.post/{rkey}"] = stamp
        a.add(frame, stamp)
        b.add(frame, stamp)

    state = tmp_path / "state"
    state.mkdir()
    (state / CURSOR_FILE).write_text(json.dumps({"time_us": BASE_TIME_US, "recent": []}))
    firehose = ChaosFirehose(schedule)
    gap_log = GapLog()
    logging.getLogger("ingester.sources.bluesky").addHandler(gap_log)
    done = threading.Event()
    counter = [0]

    def feed_and_toggle() -> None:
        while not done.wait(1 / RATE):
            at = firehose.now()
            a.dead = schedule.active("a_dead", at)
            b.dead = schedule.active("b_dead", at)
            a.close_every = 1 + int(schedule.rng.random() * 80) if schedule.active("a_flaky", at) else None
            if at < seconds:
                add(counter[0])
                counter[0] += 1
        a.dead = b.dead = False
        a.close_every = None

    def settings() -> Settings:
        return Settings(
            source="bluesky",
            delivery_stream="chaos",
            tracked_terms=("aws",),
            bluesky_endpoints=(a.url, b.url),
            state_dir=state,
            stall_timeout_s=1.0,
            bluesky_cursor_rewind_s=0.5,
            bluesky_reconnect_max_s=0.5,
            bluesky_gap_min_s=1.0,
            **FAST_TIMINGS,
        )

    def in_gap(post_id: str) -> bool:
        stamp = events[post_id]
        return any(start <= stamp <= end for start, end in gap_log.gaps)

    restarts = 0
    try:
        with fake_jetstream(a), fake_jetstream(b):
            feeder = threading.Thread(target=feed_and_toggle, daemon=True)
            feeder.start()
            for n, moment in enumerate([*stops, seconds]):
                run_until(settings(), firehose, moment, f"seed {seed}")
                restarts += 1
                if n == gap_after_stop:  # the events 3 s past the cursor age out while the ingester is down
                    saved = json.loads((state / CURSOR_FILE).read_text())["time_us"]
                    a.floor_time_us = b.floor_time_us = saved + 3_000_000
            done.set()
            feeder.join(timeout=5)
            total = counter[0]
            # After the faults: a run catches up with everything appended, within the bound
            last_stamp = BASE_TIME_US + (total - 1) * STEP_US
            started = time.monotonic()
            last = IngesterRun(settings(), firehose)

            def caught_up() -> bool:
                saved = json.loads((state / CURSOR_FILE).read_text()) if (state / CURSOR_FILE).exists() else {}
                return bool(saved.get("time_us", 0) >= last_stamp and firehose_idle())

            def firehose_idle() -> bool:
                with lock:
                    pending = {i for i in events if i not in oversized and not in_gap(i)} - set(firehose.delivered)
                return not pending

            while not caught_up() and time.monotonic() - started < RECOVERY_S:
                time.sleep(0.1)
            recovery = time.monotonic() - started
            last.stop(f"seed {seed}")
    finally:
        done.set()
        logging.getLogger("ingester.sources.bluesky").removeHandler(gap_log)

    context = f"seed {seed}: {schedule.describe()}; stops at {[round(s, 1) for s in stops]}; gaps {gap_log.gaps}"
    assert recovery < RECOVERY_S, f"no catch-up within {RECOVERY_S} s after the faults ({context})"
    assert gap_log.gaps, f"the retention gap was not reported ({context})"
    result: dict[str, Any] = check_invariant(
        expected=events,
        delivered=list(firehose.delivered),
        restarts=restarts,
        dropped=oversized,
        in_gaps=in_gap,
        context=context,
    )
    assert result["delivered"] > 0, context
