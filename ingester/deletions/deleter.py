"""The deleter: applies tombstones to every store that may hold a copy, until each has taken them, and again later.

A *target* is a store (OpenSearch through ``_delete_by_query`` on ``tweets-*``, the demo's SQLite) with one
method, ``delete(posts, authors)``, that removes every document of those post ids and author ids and raises
:class:`DeletionFailed` when it could not. Deleting is idempotent (a second delete of a gone post deletes
nothing), so the deleter may re-apply freely, and does:

* **pending**: a tombstone not yet taken by a target is sent to it on the next round (WAKE_BATCH_S after a new
  tombstone, and every DELETION_INTERVAL_S), in batches of BATCH; a target that fails keeps its tombstones
  pending and is retried next round, with the failure logged (once per failure streak) and counted
  (``deletion_failures``); other targets and the ingester go on. The deletion lag (recorded → applied) of each
  tombstone is measured once, on its first success.
* **re-apply**: a copy of a deleted post can still arrive after the delete succeeded: from a Firehose buffer
  (up to 900 s) and its retries (up to 7,200 s), or a redrive. So tombstones recorded within
  DELETION_REAPPLY_WINDOW_S are deleted again every DELETION_REAPPLY_INTERVAL_S, and :meth:`Deleter.sweep`
  re-applies every live tombstone (run after a redrive, at start, and by the demo after its local Firehose
  flushed).

Failure policy: nothing here raises into the caller's loop for a target's failure; tombstones stay until their
expiry in the store, so a target down for hours catches up when it is back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY, dataclass, field
from typing import Protocol

from ingester.deletions.store import DeletionStore, Tombstone
from ingester.stats import Stats

log = logging.getLogger(__name__)

#: Ids per delete call (a terms query of 500 keywords is well under OpenSearch's 65,536-term limit).
BATCH = 500
#: After a new tombstone wakes the worker, it waits this long for more before its round (one call for a burst).
WAKE_BATCH_S = 0.2
#: Lags kept for the p50/p99 gauges.
LAG_SAMPLES = 10_000


class DeletionFailed(Exception):
    """A target could not apply a delete; ``retriable`` False only for a refusal no retry will change."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class DeletionTarget(Protocol):
    name: str

    def delete(self, posts: Sequence[str], authors: Sequence[str]) -> int:
        """Remove every document of these post ids and author ids; returns how many were removed."""
        ...


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..100), None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-int(q * len(ordered)) // 100))
    return ordered[min(len(ordered), rank) - 1]


class Deleter:
    def __init__(
        self,
        store: DeletionStore,
        targets: Sequence[DeletionTarget],
        stats: Stats,
        *,
        reapply_window_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.targets = list(targets)
        self.stats = stats
        self.reapply_window_s = reapply_window_s
        self._clock = clock
        #: per target: the tombstones (kind, id) it has taken
        self._applied: dict[str, set[tuple[str, str]]] = {t.name: set() for t in self.targets}
        self._failing: set[str] = set()
        self._lags: deque[float] = deque(maxlen=LAG_SAMPLES)
        self._measured: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def pending(self) -> int:
        """Tombstones some target has not taken yet."""
        stones = self.store.tombstones()
        return sum(1 for s in stones for t in self.targets if (s.kind, s.id) not in self._applied[t.name])

    def lag_percentiles(self) -> tuple[float | None, float | None]:
        with self._lock:
            lags = list(self._lags)
        return percentile(lags, 50), percentile(lags, 99)

    def apply_pending(self) -> int:
        """One round: every target gets the tombstones it has not taken. Returns the number applied."""
        stones = self.store.tombstones()
        done = 0
        for target in self.targets:
            todo = [s for s in stones if (s.kind, s.id) not in self._applied[target.name]]
            done += self._apply(target, todo, first=True)
        self._gauges()
        return done

    def reapply_recent(self) -> int:
        """Delete again what was deleted within the re-apply window (copies still in Firehose's buffers)."""
        return self._again(self._clock() - self.reapply_window_s)

    def sweep(self) -> int:
        """Delete again every live tombstone (after a redrive, at start, at the end of the demo)."""
        return self._again(None)

    def _again(self, since: float | None) -> int:
        stones = self.store.tombstones(since)
        done = 0
        for target in self.targets:
            done += self._apply(target, stones, first=False)
        self._gauges()
        return done

    def _apply(self, target: DeletionTarget, stones: list[Tombstone], *, first: bool) -> int:
        applied = 0
        for start in range(0, len(stones), BATCH):
            chunk = stones[start : start + BATCH]
            posts = [s.id for s in chunk if s.kind == "post"]
            authors = [s.id for s in chunk if s.kind == "author"]
            try:
                removed = target.delete(posts, authors)
            except DeletionFailed as exc:
                self.stats.incr("deletion_failures")
                self.stats.error(f"delete in {target.name}: {exc}")
                if target.name not in self._failing:
                    self._failing.add(target.name)
                    log.error(
                        "deleting %d id(s) in %s failed: %s; they stay pending and are retried",
                        len(chunk),
                        target.name,
                        exc,
                    )
                return applied
            if target.name in self._failing:
                self._failing.discard(target.name)
                log.warning("deletes in %s succeed again", target.name)
            now = self._clock()
            self._applied[target.name].update((s.kind, s.id) for s in chunk)
            self.stats.incr("deletions_removed", removed)
            if first:
                self.stats.incr("deletions_applied", len(chunk))
                with self._lock:
                    for s in chunk:
                        if (s.kind, s.id) not in self._measured:
                            self._measured.add((s.kind, s.id))
                            self._lags.append(max(0.0, now - s.recorded_at))
            else:
                self.stats.incr("deletions_reapplied", len(chunk))
            applied += len(chunk)
        return applied

    def _gauges(self) -> None:
        p50, p99 = self.lag_percentiles()
        self.stats.set("deletion_lag_p50_s", None if p50 is None else round(p50, 3))
        self.stats.set("deletion_lag_p99_s", None if p99 is None else round(p99, 3))
        self.stats.set("deletions_pending", self.pending())
        self.stats.set("tombstones", len(self.store.tombstones()))


@dataclass(eq=False)
class DeletionWorker:
    """The deleter's thread: a round every ``interval_s`` and WAKE_BATCH_S after a new tombstone (then ``publish``
    gets the live tombstones: the S3 copy ``make redrive`` reads), a re-apply every ``reapply_interval_s``, a sweep
    at start; the store's expiry once an hour. ``stop`` ends it after the current round."""

    deleter: Deleter
    _: KW_ONLY
    interval_s: float
    reapply_interval_s: float
    publish: Callable[[list[Tombstone]], object] | None = None
    stop: threading.Event = field(default_factory=threading.Event, init=False)
    wake: threading.Event = field(default_factory=threading.Event, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)

    def start(self) -> None:
        self.deleter.store.on_tombstone = self.wake.set
        self._thread = threading.Thread(target=self._run, name="deleter", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        next_reapply = time.monotonic() + self.reapply_interval_s
        next_expiry = time.monotonic() + 3600
        try:
            self.deleter.sweep()
            while not self.stop.is_set():
                self.deleter.apply_pending()
                if self.publish is not None:
                    self.publish(self.deleter.store.tombstones())
                now = time.monotonic()
                if now >= next_reapply:
                    self.deleter.reapply_recent()
                    next_reapply = now + self.reapply_interval_s
                if now >= next_expiry:
                    self.deleter.store.expire()
                    next_expiry = now + 3600
                if self.wake.wait(self.interval_s) and not self.stop.is_set():
                    self.stop.wait(WAKE_BATCH_S)  # a new tombstone: gather the ones right behind it, then go
                self.wake.clear()
        except Exception:  # a bug, not a target's failure (those are DeletionFailed): log it, the ingester goes on
            log.exception("the deleter stopped; tombstones stay on disk and are applied at the next start")
            self.deleter.stats.set("deleter_running", False)

    def close(self, *, final_round: bool = True) -> None:
        self.stop.set()
        self.wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        if final_round:
            self.deleter.apply_pending()
