"""Which records go into one PutRecordBatch call: at most 500 records and 4 MiB, measured on the encoded payload.

One rule, :meth:`BatchLimits.fits`, used by the writer's live batch (``ingester.writer``, which adds linger time
on top) and by :func:`split` (redrive, smoke: a known list of payloads). A record joins a batch if the batch has
fewer than ``max_records`` records and the bytes stay within ``max_bytes``; callers put the first record of a
batch in whatever its size, so every record within Firehose's 1,000 KiB limit is sent.

Failure policy: a record over 1,000 KiB can never be sent (Firehose refuses the whole call), so
:func:`check_record_sizes` raises :class:`RecordTooLarge`, and ``put_all`` checks before any call is made; callers
remove such records first and keep them elsewhere (the pipeline dead-letters them, redrive leaves them in their
failed-records object).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ingester.firehose.limits import MAX_BATCH_BYTES, MAX_BATCH_RECORDS, MAX_RECORD_BYTES


class RecordTooLarge(ValueError):
    """A payload is over Firehose's 1,000 KiB record limit; the message names its index and size."""

    def __init__(self, index: int, size: int) -> None:
        super().__init__(f"record {index} is {size} bytes; the Firehose limit is {MAX_RECORD_BYTES} bytes (1,000 KiB)")
        self.index = index
        self.size = size


@dataclass(frozen=True)
class BatchLimits:
    """The size of one PutRecordBatch call; the defaults are Firehose's limits (a setting may lower them)."""

    max_records: int = MAX_BATCH_RECORDS
    max_bytes: int = MAX_BATCH_BYTES

    def fits(self, count: int, size: int, record_bytes: int) -> bool:
        """Whether a record of ``record_bytes`` joins a batch of ``count`` records and ``size`` bytes."""
        return count < self.max_records and size + record_bytes <= self.max_bytes

    def full(self, count: int, size: int) -> bool:
        """Whether a batch of ``count`` records and ``size`` bytes should be sent without waiting for more."""
        return count >= self.max_records or size >= self.max_bytes


def check_record_sizes(payloads: Sequence[bytes]) -> None:
    """Raise :class:`RecordTooLarge` for the first payload over Firehose's 1,000 KiB record limit."""
    for i, data in enumerate(payloads):
        if len(data) > MAX_RECORD_BYTES:
            raise RecordTooLarge(i, len(data))


def split(payloads: Sequence[bytes], limits: BatchLimits | None = None) -> list[list[int]]:
    """Indexes of ``payloads`` grouped into PutRecordBatch calls, in order, each within ``limits``.

    Only the batch limits apply here; :func:`check_record_sizes` is the record limit (``put_all`` checks it before
    any call).
    """
    limits = limits or BatchLimits()
    batches: list[list[int]] = []
    batch: list[int] = []
    size = 0
    for i, data in enumerate(payloads):
        if batch and not limits.fits(len(batch), size, len(data)):
            batches.append(batch)
            batch, size = [], 0
        batch.append(i)
        size += len(data)
    if batch:
        batches.append(batch)
    return batches
