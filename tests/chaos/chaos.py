"""What the chaos tests share: a seeded fault schedule, a Firehose that fails as the schedule says, the invariant."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from botocore.exceptions import ClientError, EndpointConnectionError

from ingester.app import run
from ingester.config import Settings
from ingester.firehose.limits import MAX_BATCH_RECORDS

#: Duplicates one restart may cause: the records of the batches in flight when it stopped (one from the WAL, one
#: from the spool drain) are sent again when their settle marks were not written yet (docs/operate.md).
DUPLICATES_PER_RESTART = 2 * MAX_BATCH_RECORDS
#: After the last fault, everything pending is delivered within this (the writer's probe backs off at most
#: MAX_BACKOFF_S, Jetstream's reconnect at most 60 s; the tests shorten both).
RECOVERY_S = 30.0


@dataclass
class Window:
    start: float
    end: float
    kind: str


@dataclass
class Schedule:
    """Fault windows over ``seconds``, drawn from ``seed``: each kind of fault comes and goes."""

    seed: int
    seconds: float
    rng: random.Random = field(init=False)
    windows: list[Window] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    @classmethod
    def drawn(cls, seed: int, seconds: float, faults: Mapping[str, tuple[int, float]]) -> Schedule:
        """A schedule with, per kind, 0 to ``most`` windows of at most ``longest`` seconds: ``{kind: (most,
        longest)}``, drawn in the mapping's order (the order is part of what a seed reproduces)."""
        schedule = cls(seed, seconds)
        for kind, (most, longest) in faults.items():
            schedule.add(kind, schedule.rng.randint(0, most), longest)
        return schedule

    def add(self, kind: str, count: int, longest: float) -> None:
        for _ in range(count):
            start = self.rng.uniform(0, self.seconds * 0.9)
            self.windows.append(Window(start, min(self.seconds, start + self.rng.uniform(0.2, longest)), kind))

    def active(self, kind: str, at: float) -> bool:
        return any(w.kind == kind and w.start <= at < w.end for w in self.windows)

    def moments(self, count: int) -> list[float]:
        """``count`` random moments of the schedule, in order (restarts, kills)."""
        return sorted(self.rng.uniform(0.5, self.seconds) for _ in range(count))

    def describe(self) -> str:
        return ", ".join(f"{w.kind} {w.start:.1f}-{w.end:.1f}s" for w in sorted(self.windows, key=lambda w: w.start))


class ChaosFirehose:
    """A PutRecordBatch client that, per the schedule, fails some records, throttles, or is down."""

    def __init__(self, schedule: Schedule, started: float | None = None) -> None:
        self.schedule = schedule
        self.started = started if started is not None else time.monotonic()
        self.rng = random.Random(schedule.seed * 7919)
        self.delivered: list[str] = []
        self.calls = 0
        self.lock = threading.Lock()

    def now(self) -> float:
        return time.monotonic() - self.started

    def put_record_batch(self, *, DeliveryStreamName: str, Records: list[dict[str, bytes]]) -> dict[str, object]:
        import json

        at = self.now()
        with self.lock:
            self.calls += 1
            rng_value, pick = self.rng.random(), self.rng.random
        if self.schedule.active("outage", at):
            raise EndpointConnectionError(endpoint_url="https://firehose.us-east-1.amazonaws.com")
        if self.schedule.active("throttle", at) and rng_value < 0.7:
            raise ClientError({"Error": {"Code": "ServiceUnavailableException", "Message": "Slow down."}}, "Put")
        share = 0.3 if self.schedule.active("record_failures", at) else 0.0
        responses: list[dict[str, str]] = []
        failed = 0
        with self.lock:
            for record in Records:
                if share and pick() < share:
                    failed += 1
                    responses.append({"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "Slow down."})
                else:
                    self.delivered.append(json.loads(record["Data"])["tweet"]["id"])
                    responses.append({"RecordId": "r"})
        return {"FailedPutCount": failed, "Encrypted": False, "RequestResponses": responses}


def check_invariant(
    *,
    expected: Iterable[str],
    delivered: list[str],
    restarts: int,
    dropped: Iterable[str] = (),
    in_gaps: Callable[[str], bool] = lambda _: False,
    context: str,
) -> dict[str, int]:
    """Every expected post delivered, reported dropped or inside a reported gap; duplicates within the bound."""
    want = set(expected)
    got = Counter(delivered)
    missing = sorted(i for i in want if i not in got and i not in set(dropped) and not in_gaps(i))
    duplicates = sum(n - 1 for n in got.values() if n > 1)
    unexpected = sorted(set(got) - want)
    assert not missing, (
        f"{len(missing)} accepted post(s) neither delivered, dropped nor in a gap: {missing[:5]} ({context})"
    )
    assert not unexpected, f"delivered posts nobody sent: {unexpected[:5]} ({context})"
    bound = DUPLICATES_PER_RESTART * max(1, restarts)
    assert duplicates <= bound, f"{duplicates} duplicates > {bound} for {restarts} restart(s) ({context})"
    return {"posts": len(want), "delivered": len(got), "duplicates": duplicates, "restarts": restarts}


#: The ingester's timings, shrunk so that a schedule of seconds sees many batches, spools and restarts.
FAST_TIMINGS: dict[str, float] = {
    "linger_ms": 20,
    "wal_commit_ms": 20,
    "spool_after_s": 0.2,
    "max_backoff_s": 0.2,
    "shutdown_grace_s": 0.5,
    "status_interval_s": 0.2,
}


class IngesterRun:
    """One lifetime of the ingester: ``ingester.app.run`` in a thread, stopped by its own event (SIGTERM's)."""

    def __init__(self, settings: Settings, firehose: ChaosFirehose) -> None:
        self.stop_event = threading.Event()
        self.codes: list[int] = []
        self.thread = threading.Thread(
            target=lambda: self.codes.append(run(settings, firehose_client=firehose, stop_event=self.stop_event)),
            daemon=True,
        )
        self.thread.start()

    def stop(self, context: str) -> None:
        """Stop it and wait: run() must return (with 0, or 1 for a source that gave up)."""
        self.stop_event.set()
        self.thread.join(timeout=30)
        assert not self.thread.is_alive(), f"run() did not return after stop ({context})"


def run_until(settings: Settings, firehose: ChaosFirehose, moment: float, context: str) -> IngesterRun:
    """A run from now until ``moment`` on the fake Firehose's clock (or until it ends by itself), then stopped."""
    lifetime = IngesterRun(settings, firehose)
    lifetime.thread.join(timeout=max(0.0, moment - firehose.now()))
    lifetime.stop(context)
    return lifetime
