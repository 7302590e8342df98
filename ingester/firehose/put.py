"""PutRecordBatch, resending only the entries that failed: one call, the retry loop, and the tools' whole put.

* :func:`put_once`: one PutRecordBatch call of some of the records; returns the entries Firehose refused, each
  with its ``ErrorCode`` / ``ErrorMessage``.
* :func:`pause_after`: the escalation rule of the writer and the tools, once: a call that Firehose accepted any
  record of (progress) resets the backoff and the next call goes at once; only a call that accepted nothing
  (every entry failed, or a call-level error: throttling, 5xx, network) waits the next, longer, backoff step.
* :func:`retry_failed`: the tools' retry loop: call, then resend only what failed, paced by :func:`pause_after`,
  for as long as the caller's ``may_retry`` allows (a number of calls). The writer does not loop per batch: it
  puts the failed entries at the head of its next call (``ingester.writer``), paced by the same rule.
* :func:`put_all`: the tools' (``make redrive``, ``make smoke``) whole job: split the payloads into calls
  (``ingester.firehose.batching``), retry each call's failed entries up to ``RetryPolicy.attempts`` calls.

Failure policy:

* An entry with an ``ErrorCode`` (throttling, an internal error) is resent alone; the others are not sent twice.
* A response that does not hold one result per record sent: every record of the call counts as failed.
* A call-level error (``ClientError``, ``BotoCoreError``) propagates out of :func:`put_once`: what it means is the
  caller's policy. The writer, a daemon, retries them all and spools what is left (a missing stream or a
  missing permission gets fixed while it waits), except :data:`NON_RETRIABLE_CODES`, which it dead-letters.
  :func:`put_all`, at an operator's terminal, raises :class:`StreamUnusable` at once for :data:`STOP_CODES`
  (retrying cannot help and every later call would fail the same way) and retries any other.
* What still fails when retrying stops is returned with its last reason, never dropped: the writer spools it,
  redrive writes it back into its failed-records object, smoke reports it.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from ingester.backoff import Backoff
from ingester.firehose.batching import check_record_sizes, split

log = logging.getLogger(__name__)

NON_RETRIABLE_CODES = frozenset({"InvalidArgumentException", "ValidationException"})
"""Firehose error codes that say the request itself is wrong, not that the service is unhappy."""

STOP_CODES = frozenset({"ResourceNotFoundException", "InvalidArgumentException", "AccessDeniedException"})
"""Call-level errors that stop :func:`put_all`: no such stream, a refused request, no permission."""


class FirehoseClient(Protocol):
    """The one call this component makes (a boto3 ``firehose`` client and the demo's local Firehose satisfy it)."""

    def put_record_batch(self, *, DeliveryStreamName: str, Records: list[dict[str, bytes]]) -> dict[str, Any]: ...


class EntryError(NamedTuple):
    """Why one record was not delivered: Firehose's ``ErrorCode`` and ``ErrorMessage`` (or the call's error)."""

    code: str
    message: str


Failures = dict[int, EntryError]
"""Records not delivered, by their index in the caller's list, in the order they were sent."""


class StreamUnusable(RuntimeError):
    """:func:`put_all` met a call-level error in :data:`STOP_CODES`; the message names the stream and the error."""


def put_once(client: FirehoseClient, stream: str, records: Sequence[bytes], indices: Iterable[int]) -> Failures:
    """One PutRecordBatch call of ``records[i]`` for ``i`` in ``indices``; returns the entries that failed.

    ``ClientError`` and ``BotoCoreError`` propagate (see the module's failure policy).
    """
    indices = list(indices)
    response = client.put_record_batch(DeliveryStreamName=stream, Records=[{"Data": records[i]} for i in indices])
    responses = response.get("RequestResponses", [])
    if len(responses) != len(indices):
        log.warning("PutRecordBatch returned %d responses for %d records; resending all", len(responses), len(indices))
        message = f"{len(responses)} responses for {len(indices)} records"
        return {i: EntryError("ResponseMismatch", message) for i in indices}
    return {
        i: EntryError(str(entry["ErrorCode"]), str(entry.get("ErrorMessage", "")))
        for i, entry in zip(indices, responses, strict=True)
        if entry.get("ErrorCode")
    }


def pause_after(backoff: Backoff, sent: int, failed: int) -> float:
    """The pause before the next call after one that sent ``sent`` records of which ``failed`` were not accepted.

    Progress (at least one record accepted, or all) resets ``backoff`` and returns 0: a stream that sheds part of
    its load (Firehose fails records with ``ServiceUnavailableException`` when it is over its limits) still takes
    the rest at the rate calls go, so waiting would only lose throughput. Nothing accepted returns the backoff's
    next step (capped exponential with jitter): only calls that make no progress escalate.
    """
    if failed < sent:
        backoff.reset()
        return 0.0
    return backoff.next()


def retry_failed(
    put: Callable[[list[int]], Mapping[int, EntryError]],
    indices: Iterable[int],
    backoff: Backoff,
    *,
    may_retry: Callable[[int, float, Mapping[int, EntryError]], bool],
    sleep: Callable[[float], object],
) -> Failures:
    """Call ``put(indices)``, then ``put`` again with only the indices that failed, until none fails or
    ``may_retry(calls made, next delay, failures)`` says stop; returns what still failed (empty: all delivered).

    The backoff starts from its base for every delivery (``reset``); :func:`pause_after` paces the resends.
    """
    backoff.reset()
    pending = list(indices)
    calls = 0
    while True:
        failed = put(pending)
        calls += 1
        if not failed:
            return {}
        delay = pause_after(backoff, len(pending), len(failed))
        if not may_retry(calls, delay, failed):
            return dict(failed)
        if delay > 0:
            sleep(delay)
        pending = list(failed)


@dataclass(frozen=True)
class RetryPolicy:
    """How hard :func:`put_all` tries: calls per batch (the first included) and the backoff between them."""

    base_s: float = 0.2
    cap_s: float = 10.0
    attempts: int = 8
    sleep: Callable[[float], object] = time.sleep
    rng: random.Random | None = None


def put_all(
    client: FirehoseClient, stream: str, payloads: Sequence[bytes], policy: RetryPolicy | None = None
) -> tuple[int, Failures]:
    """Put every payload, resending only failed entries; returns (calls made, {index: reason} still failing).

    Raises :class:`StreamUnusable` for a call-level error in :data:`STOP_CODES` and
    :class:`~ingester.firehose.batching.RecordTooLarge` (before any call) for a payload over 1,000 KiB.
    """
    check_record_sizes(payloads)
    policy = policy or RetryPolicy()
    backoff = Backoff(policy.base_s, policy.cap_s, policy.rng)
    calls = 0

    def put(indices: list[int]) -> Failures:
        nonlocal calls
        calls += 1
        try:
            return put_once(client, stream, payloads, indices)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", "ClientError"))
            if code in STOP_CODES:
                raise StreamUnusable(f"PutRecordBatch to {stream} failed: {exc}") from exc
            return {i: EntryError(code, str(exc)) for i in indices}
        except BotoCoreError as exc:  # connection errors and the like: retry the whole call
            return {i: EntryError(type(exc).__name__, str(exc)) for i in indices}

    def may_retry(calls_made: int, _delay: float, _failed: Mapping[int, EntryError]) -> bool:
        return calls_made < policy.attempts

    failed: Failures = {}
    for batch in split(payloads):
        failed.update(retry_failed(put, batch, backoff, may_retry=may_retry, sleep=policy.sleep))
    return calls, failed
