"""The Firehose writer: batches, resends only what failed, spools what cannot be sent, never drops.

One thread owns the Firehose client. Records arrive through a bounded queue (``put`` blocks when it is
full: back-pressure instead of unbounded memory). A batch is sent when it reaches MAX_BATCH_RECORDS
(500), MAX_BATCH_BYTES (4 MiB of encoded payload) or its linger time, whichever comes first.

Failure handling (one PutRecordBatch call at a time; the pacing rule is ``ingester.firehose.put.pause_after``):

* ``FailedPutCount > 0``: only the entries with an ``ErrorCode`` are resent. They go at the head of the next
  call, topped up with queued records to a full batch, so calls stay large while Firehose sheds part of the
  load. A call that accepted any record is *progress*: it resets the backoff and the next call goes at once.
  Only a call that accepted nothing (every entry failed, throttled call, 5xx, network error) waits the next
  step of the capped exponential backoff (0.1 s doubling to MAX_BACKOFF_S, 2 s by default, with jitter).
* If calls have accepted nothing for SPOOL_AFTER_S (5 s), the writer turns *degraded*: the records in hand
  and new batches go to the disk spool (so the queue keeps draining and memory stays flat) while the
  oldest spooled batch probes Firehose, one call per backoff step (at most MAX_BACKOFF_S apart). A probe
  that makes progress ends degraded mode (a 500-record probe need not be accepted whole: at a few percent
  of failed records it never would be); its failed records stay in the spool and go in the next call.
  Delivery therefore resumes at most MAX_BACKOFF_S plus one call after Firehose is back. Healthy again,
  the writer drains the spool oldest first, one spool batch per live batch, so live data is never starved.
* If Firehose is healthy but slower than the source (a burst), the queue fills up; above 75 % of
  QUEUE_MAX_RECORDS live batches go to the spool (one write and fsync per batch) until it is back under
  25 %, so the source is not held up and memory stays flat: back-pressure goes to disk, not to X.
* ``InvalidArgumentException`` (Firehose refuses the content itself) is not retriable: the batch goes
  to the dead-letter file with the error message as its reason.
* Closing (end of a replay, SIGTERM): the queue is flushed with the same pacing, degraded or not, until
  SHUTDOWN_GRACE_S is up; only then what is left goes to the spool.

A record stays unsettled in the WAL while it is in memory (queued, in a batch, or waiting to be resent) and
is settled once Firehose accepted it or it is in the spool or the dead-letter file.

The batch rule, the PutRecordBatch call, the pacing rule and the backoff are shared with the tools
(``ingester.firehose``, ``ingester.backoff``); this module adds the queue, the WAL, the spool and the
dead-letter file around them.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from collections.abc import Callable

from botocore.exceptions import BotoCoreError, ClientError

from ingester.backoff import Backoff
from ingester.firehose.batching import BatchLimits
from ingester.firehose.limits import MAX_BATCH_BYTES, MAX_BATCH_RECORDS
from ingester.firehose.put import NON_RETRIABLE_CODES, EntryError, Failures, FirehoseClient, pause_after, put_once
from ingester.stats import Stats
from ingester.storage import DeadLetter, Spool, StorageError, Wal

log = logging.getLogger(__name__)

Item = tuple[bytes, int]  # (encoded record, WAL ticket or -1)

#: Seconds between attempts to spool batches the spool refused (disk full, SPOOL_MAX_BYTES reached).
HELD_RETRY_S = 1.0


class _Batch:
    """The live batch being built: flushes at ``max_records``, ``max_bytes`` or its linger deadline."""

    def __init__(
        self,
        max_records: int = MAX_BATCH_RECORDS,
        max_bytes: int = MAX_BATCH_BYTES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = BatchLimits(max_records, max_bytes)
        self.items: list[Item] = []
        self.bytes = 0
        self.deadline = 0.0
        self._clock = clock

    def fits(self, item: Item) -> bool:
        return self.limits.fits(len(self.items), self.bytes, len(item[0]))

    @property
    def full(self) -> bool:
        return self.limits.full(len(self.items), self.bytes)

    def add(self, item: Item, linger_s: float) -> None:
        if not self.items:
            self.deadline = self._clock() + linger_s
        self.items.append(item)
        self.bytes += len(item[0])

    def requeue(self, items: list[Item]) -> None:
        """Records a call did not deliver go back at the head of the batch, which is due at once."""
        self.items[:0] = items
        self.bytes += sum(len(data) for data, _ in items)
        self.deadline = self._clock()

    def take(self) -> list[Item]:
        items, self.items, self.bytes = self.items, [], 0
        return items


class FirehoseWriter:
    def __init__(
        self,
        client: FirehoseClient,
        stream_name: str,
        *,
        wal: Wal,
        spool: Spool,
        dead_letter: DeadLetter,
        stats: Stats,
        max_batch_records: int = MAX_BATCH_RECORDS,
        max_batch_bytes: int = MAX_BATCH_BYTES,
        linger_s: float = 1.0,
        queue_max_records: int = 20_000,
        spool_after_s: float = 5.0,
        base_backoff_s: float = 0.1,
        max_backoff_s: float = 2.0,
        shutdown_grace_s: float = 10.0,
        sleep: Callable[[float], object] | None = None,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        deleted: Callable[[bytes], bool] | None = None,
    ) -> None:
        self._client = client
        self._deleted = deleted
        self._stream = stream_name
        self._wal = wal
        self._spool = spool
        self._dead = dead_letter
        self._stats = stats
        self._max_records = max_batch_records
        self._max_bytes = max_batch_bytes
        self._linger_s = linger_s
        self._queue: queue.Queue[Item] = queue.Queue(maxsize=queue_max_records)
        self._high_water = max(1, queue_max_records * 3 // 4)
        self._low_water = queue_max_records // 4
        self._overflow = False
        self._spool_after_s = spool_after_s
        self._backoff = Backoff(base_backoff_s, max_backoff_s, rng)
        self._shutdown_grace_s = shutdown_grace_s
        self._wake = threading.Event()
        self._sleep: Callable[[float], object] = sleep or self._sleep_until_woken
        self._clock = clock
        self._closing = threading.Event()
        self._drain_spool_on_close = False
        self._close_deadline = float("inf")
        self._healthy = True
        self._next_call = 0.0  # no call before this (set after a call that accepted nothing)
        self._stalled_since: float | None = None  # first of the calls in a row that accepted nothing
        self._thread: threading.Thread | None = None
        self._held: list[list[Item]] = []  # batches the spool refused; still in the WAL, kept until placed
        self._held_retry_at = 0.0
        self._hold_logged = False
        self.error: BaseException | None = None

    # -- producer side ----------------------------------------------------------------------------
    def put(self, data: bytes, wal_ticket: int, stop: threading.Event | None = None) -> None:
        """Queue one encoded record; blocks while the queue is full (the writer is spooling, sending or holding
        what the spool refused). Once closing or ``stop`` is set, a record that does not fit is left to the WAL
        (the next start sends it)."""
        while True:
            try:
                self._queue.put((data, wal_ticket), timeout=0.2)
                return
            except queue.Full:
                if (self._closing.is_set() or (stop is not None and stop.is_set())) and wal_ticket >= 0:
                    return

    def queue_depth(self) -> int:
        return self._queue.qsize()

    @property
    def healthy(self) -> bool:
        return self._healthy

    # -- lifecycle ----------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._guarded_run, name="firehose-writer", daemon=True)
        self._thread.start()

    def close(self, *, drain_spool: bool) -> None:
        """No more input: flush the queue (retrying within SHUTDOWN_GRACE_S, then spool the rest) and stop.

        ``drain_spool`` also waits for the spool to empty (end of a finite replay) unless
        ``interrupt()`` is called.
        """
        self._drain_spool_on_close = drain_spool
        self._close_deadline = self._clock() + self._shutdown_grace_s
        self._closing.set()
        self._wake.set()

    def interrupt(self) -> None:
        """SIGTERM during close: stop draining the spool; the queue's flush keeps (at most) its grace period."""
        self._drain_spool_on_close = False
        self._close_deadline = min(self._close_deadline, self._clock() + self._shutdown_grace_s)
        self._wake.set()

    def join(self, timeout: float | None = None) -> bool:
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _sleep_until_woken(self, seconds: float) -> None:
        """The default sleep: ``close`` and ``interrupt`` cut it short (the flush then re-checks its deadline)."""
        self._wake.wait(seconds)
        self._wake.clear()

    # -- the loop -----------------------------------------------------------------------------------
    def _guarded_run(self) -> None:
        try:
            self.run()
        except BaseException as exc:
            self.error = exc
            log.exception("Firehose writer failed")

    def run(self) -> None:
        """The writer loop (``start`` runs it in a thread; tests may call it directly after ``close``)."""
        batch = _Batch(self._max_records, self._max_bytes, self._clock)
        while True:
            closing = self._closing.is_set()
            if self._spool_ready() or closing:
                wait = 0.0  # a spool to drain: never idle while the live batch lingers
            elif batch.items:  # wake up at least every 0.2 s to notice close()
                wait = min(0.2, max(0.0, batch.deadline - self._clock()))
            else:
                wait = 0.1
            if not self._fill_unless_held(batch, wait) and closing:
                return  # what is held or queued is in the WAL: the next start spools it
            if batch.items and (batch.full or closing or self._clock() >= batch.deadline):
                self._send_live(batch)
            if self._spool_ready() and not self._overflow and self._may_send_spool():
                self._send_spool_batch()
            elif not self._healthy and self._clock() >= self._next_call and self._may_send_spool():
                self._send_spool_batch()  # the probe
            self._stats.set("queue_depth", self._queue.qsize())
            self._stats.set("spool_records", self._spool.pending_records)
            self._stats.set("spool_bytes", self._spool.pending_bytes)
            if closing and not batch.items and self._queue.empty():
                if not (self._drain_spool_on_close and self._spool.has_pending()):
                    return
                if not self._healthy:
                    self._sleep(min(0.2, max(0.0, self._next_call - self._clock())))

    def _fill_unless_held(self, batch: _Batch, wait: float) -> bool:
        """``_fill``, unless batches the spool refused are still held (then False): no new records are taken
        while the spool refuses, so the queue fills and pauses the source."""
        if self._held:
            self._retry_held()
        if self._held:
            self._sleep(min(0.1, max(0.0, self._held_retry_at - self._clock())))
            return False
        self._fill(batch, wait)
        return True

    def _fill(self, batch: _Batch, wait: float) -> None:
        """Move queued records into the batch (waiting up to ``wait`` for the first); send full batches."""
        item = self._get(wait)
        while item is not None:
            while batch.items and not batch.fits(item):
                self._send_live(batch)  # what it does not deliver stays at the head of the batch
            batch.add(item, self._linger_s)
            if batch.full:
                return
            item = self._get(0.0)

    def _get(self, timeout: float) -> Item | None:
        try:
            if timeout <= 0:
                return self._queue.get_nowait()
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def _spool_ready(self) -> bool:
        return self._healthy and self._spool.has_pending()

    def _may_send_spool(self) -> bool:
        """Spooled records are sent while running, while closing within the grace period, and after it only to
        drain the spool at the end of a replay."""
        return self._spool.has_pending() and (
            not self._closing.is_set() or self._drain_spool_on_close or self._clock() < self._close_deadline
        )

    # -- sending ------------------------------------------------------------------------------------
    def _overflowing(self) -> bool:
        """Queue above its high-water mark (75 %): live batches go to the spool until it is below 25 %."""
        depth = self._queue.qsize()
        if not self._overflow and depth >= self._high_water and not self._closing.is_set():
            self._overflow = True
            log.warning(
                "queue at %d records (high-water mark %d): Firehose is slower than the source; spooling live "
                "batches to disk until the writer catches up",
                depth,
                self._high_water,
            )
        elif self._overflow and (depth <= self._low_water or self._closing.is_set()):
            self._overflow = False
            log.info("queue back to %d records: sending live batches again", depth)
        return self._overflow

    def _send_live(self, batch: _Batch) -> None:
        """One call with the batch; what Firehose did not accept goes back at the head of the batch (or to the
        spool when degraded, overflowing or past the close deadline)."""
        closing = self._closing.is_set()
        if self._overflowing() or not (self._healthy or closing) or not self._wait_for_next_call(flush=True):
            self._to_spool(batch.take())
            return
        items = batch.take()
        failed = self._call([data for data, _ in items])
        self._wal.settle(seg for i, (_, seg) in enumerate(items) if i not in failed)
        if not failed:
            return
        carry = [items[i] for i in sorted(failed)]
        if self._healthy or closing:
            batch.requeue(carry)
        else:
            self._to_spool(carry)

    def _to_spool(self, batch: list[Item]) -> None:
        """Spool a batch; when the spool refuses (disk full, SPOOL_MAX_BYTES), hold it in memory instead:
        its records stay in the WAL (unsettled) and nothing more is taken from the queue until it is placed."""
        try:
            self._spool.write([data for data, _ in batch])
        except StorageError as exc:
            self._held.append(batch)
            self._held_retry_at = self._clock() + HELD_RETRY_S
            self._stats.incr("storage_errors")
            self._stats.error(f"spool write: {exc}")
            self._stats.set("spool_held_records", sum(len(b) for b in self._held))
            if not self._hold_logged:
                self._hold_logged = True
                log.error(
                    "cannot spool %d record(s) (%s): holding them (they stay in the WAL) and pausing intake until "
                    "the spool has room or Firehose accepts them",
                    len(batch),
                    exc,
                )
            return
        self._wal.settle(seg for _, seg in batch)
        self._stats.incr("spooled", len(batch))

    def _retry_held(self) -> None:
        """Place held batches: send them while Firehose accepts (or as the probe when degraded and the spool is
        empty, so they are the oldest records), spool what is left; stop at the first the spool refuses again."""
        if self._clock() < self._held_retry_at:
            return
        held, self._held = self._held, []
        while held:
            batch = held.pop(0)
            if (self._healthy or not self._spool.has_pending()) and self._clock() >= self._next_call:
                failed = self._call([data for data, _ in batch])
                self._wal.settle(seg for i, (_, seg) in enumerate(batch) if i not in failed)
                batch = [item for i, item in enumerate(batch) if i in failed]
            if batch:
                self._to_spool(batch)
            if self._held:  # refused again: keep the rest, in order, for the next try
                self._held.extend(held)
                break
        self._stats.set("spool_held_records", sum(len(b) for b in self._held))
        if not self._held:
            self._hold_logged = False
            log.info("held records placed (spooled or delivered): taking new records again")

    def _send_spool_batch(self) -> None:
        """One call with the oldest spooled records (the probe when degraded); failed ones stay spooled, first."""
        if not self._wait_for_next_call(flush=not self._drain_spool_on_close):
            return
        sbatch = self._spool.next_batch(self._max_records, self._max_bytes)
        if sbatch is None:
            return
        failed = self._call(sbatch.records)
        delivered = [i for i in range(len(sbatch.records)) if i not in failed]
        self._spool.ack(sbatch, delivered)
        self._stats.incr("unspooled", len(delivered))

    def _wait_for_next_call(self, *, flush: bool) -> bool:
        """Sleep until the backoff allows the next call; False if the close deadline comes first and this call is
        part of the closing flush (``flush``), which ends there. A sleep cut short (``close``, ``interrupt``)
        resumes: the backoff holds during the flush too."""
        while True:
            now = self._clock()
            if flush and now >= self._close_deadline:
                return False
            if now >= self._next_call:
                return True
            self._sleep((min(self._next_call, self._close_deadline) if flush else self._next_call) - now)

    def _call(self, records: list[bytes]) -> set[int]:
        """One PutRecordBatch call; returns the indices not delivered and applies the pacing rule: progress resets
        the backoff (and ends degraded mode), a call that accepted nothing escalates it."""
        failed = self._put(records, list(range(len(records))))
        now = self._clock()
        delay = pause_after(self._backoff, len(records), len(failed))
        self._next_call = now + delay
        if failed:
            self._stats.incr("retried", len(failed))
        if len(failed) < len(records):
            self._stalled_since = None
            if not self._healthy:
                self._healthy = True
                self._stats.set("firehose_healthy", True)
                log.warning("Firehose accepts records again; draining %d spooled record(s) in order", self._pending())
            return set(failed)
        if self._stalled_since is None:
            self._stalled_since = now
        if not self._healthy:
            log.info("Firehose still not accepting; next probe in %.1f s (%d records spooled)", delay, self._pending())
        elif self._next_call - self._stalled_since > self._spool_after_s:
            self._healthy = False
            self._stats.set("firehose_healthy", False)
            log.error(
                "Firehose accepted nothing for %.1f s; spooling to disk until it recovers (probing every %.1f s at "
                "most)",
                now - self._stalled_since,
                self._backoff.cap_s,
            )
        return set(failed)

    def _pending(self) -> int:
        return self._spool.pending_records

    def _put(self, records: list[bytes], indices: list[int]) -> Failures:
        """One PutRecordBatch call; returns the entries that failed (none when a refused batch is dead-lettered).
        Records of a post deleted since it was accepted (``deleted``) are left out and count as delivered to the
        caller: they settle in the WAL and leave the spool without reaching Firehose (``deleted_before_send``)."""
        if self._deleted is not None:
            gone = {i for i in indices if self._deleted(records[i])}
            if gone:
                self._stats.incr("deleted_before_send", len(gone))
                indices = [i for i in indices if i not in gone]
                if not indices:
                    return {}
        self._stats.incr("api_calls")
        try:
            failed = put_once(self._client, self._stream, records, indices)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", "ClientError"))
            message = str(error.get("Message", ""))
            self._stats.incr("failed_calls")
            if code in NON_RETRIABLE_CODES:
                log.error("Firehose rejected a batch as invalid (%s: %s); dead-lettering it", code, message)
                for n, i in enumerate(indices):
                    try:
                        self._dead.write(records[i], f"firehose_{code}", detail=message)
                    except StorageError as dead_exc:  # kept (spool or held), dead-lettered once there is room
                        self._stats.incr("storage_errors")
                        self._stats.incr("dead_lettered", n)
                        return {j: EntryError("StorageError", str(dead_exc)) for j in indices[n:]}
                self._stats.incr("dead_lettered", len(indices))
                return {}
            hint = ""
            if code == "ResourceNotFoundException":
                hint = " (check DELIVERY_STREAM_NAME and AWS_REGION)"
            elif code in {"AccessDeniedException", "AccessDenied", "UnrecognizedClientException"}:
                hint = " (check the instance role allows firehose:PutRecordBatch on this stream)"
            log.warning("PutRecordBatch failed: %s%s", code, hint)
            self._stats.error(f"PutRecordBatch {code}")
            return {i: EntryError(code, message) for i in indices}
        except BotoCoreError as exc:
            self._stats.incr("failed_calls")
            log.warning("PutRecordBatch failed: %s", type(exc).__name__)
            self._stats.error(f"PutRecordBatch {type(exc).__name__}")
            return {i: EntryError(type(exc).__name__, str(exc)) for i in indices}
        delivered = len(indices) - len(failed)
        if delivered:
            self._stats.incr("delivered", delivered)
        if failed:
            log.info(
                "PutRecordBatch: %d of %d record(s) failed (first: %s); resending only those",
                len(failed),
                len(indices),
                next(iter(failed.values())).code,
            )
        return failed
