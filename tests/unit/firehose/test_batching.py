"""Which records go into one PutRecordBatch call: 500 records, 4 MiB, 1,000 KiB a record (docs/design.md §2.4)."""

from __future__ import annotations

import pytest

from ingester.firehose.batching import BatchLimits, RecordTooLarge, check_record_sizes, split
from ingester.firehose.limits import MAX_BATCH_BYTES, MAX_BATCH_RECORDS, MAX_RECORD_BYTES

KIB = 1024


def test_the_limits_are_firehose_s() -> None:
    assert (MAX_BATCH_RECORDS, MAX_BATCH_BYTES, MAX_RECORD_BYTES) == (500, 4 * 1024 * 1024, 1000 * 1024)
    assert BatchLimits() == BatchLimits(500, 4 * 1024 * 1024)


# Moved from tests/integration/redrive/test_redrive_batches.py (redrive.batches is now split).
@pytest.mark.parametrize(("count", "sizes"), [(499, [499]), (500, [500]), (501, [500, 1]), (1001, [500, 500, 1])])
def test_batches_hold_at_most_500_records(count: int, sizes: list[int]) -> None:
    assert [len(b) for b in split([b"x"] * count)] == sizes


def test_batches_hold_at_most_4_mib() -> None:
    # five records of 1,000 KiB: four fit in 4 MiB (4,000 KiB), the fifth starts a new call
    payloads = [b"x" * (1000 * KIB)] * 5
    assert [len(b) for b in split(payloads)] == [4, 1]
    exact = [b"x" * (1024 * KIB)] * 4  # exactly 4 MiB fits
    assert [len(b) for b in split(exact)] == [4]
    assert [len(b) for b in split([*exact, b"y"])] == [4, 1]


def test_batches_keep_every_index_once_in_order() -> None:
    payloads = [b"x" * (300 * KIB)] * 30 + [b"y"] * 1200
    batches = split(payloads)
    assert [i for batch in batches for i in batch] == list(range(len(payloads)))
    assert all(len(b) <= 500 and sum(len(payloads[i]) for i in b) <= MAX_BATCH_BYTES for b in batches)


def test_size_is_measured_on_the_encoded_payload_not_the_characters() -> None:
    # 1,000 KiB of 4-byte characters is 4,000 KiB encoded: one such record alone is over the limit
    text = "\U0001f600" * (1000 * KIB // 4)
    assert len(text.encode()) == MAX_RECORD_BYTES
    assert [len(b) for b in split([text.encode()] * 5)] == [4, 1]
    check_record_sizes([text.encode()])
    with pytest.raises(RecordTooLarge):
        check_record_sizes([(text + "x").encode()])


@pytest.mark.parametrize(("size", "ok"), [(MAX_RECORD_BYTES, True), (MAX_RECORD_BYTES + 1, False)])
def test_a_record_over_1000_kib_is_refused(size: int, ok: bool) -> None:
    payloads = [b"a", b"x" * size, b"b"]
    assert split(payloads) == [[0, 1, 2]]  # the batch limits alone would take it
    if ok:
        check_record_sizes(payloads)
        return
    with pytest.raises(RecordTooLarge) as refused:
        check_record_sizes(payloads)
    assert (refused.value.index, refused.value.size) == (1, size)
    assert "1,000 KiB" in str(refused.value)


def test_lower_limits_from_the_settings_apply() -> None:
    limits = BatchLimits(max_records=3, max_bytes=10)
    assert split([b"abcd"] * 7, limits) == [[0, 1], [2, 3], [4, 5], [6]]  # bytes first: 8 + 4 > 10
    assert split([b"a"] * 7, limits) == [[0, 1, 2], [3, 4, 5], [6]]  # then count


def test_fits_and_full_are_the_writer_s_rule() -> None:
    limits = BatchLimits(max_records=2, max_bytes=10)
    assert limits.fits(0, 0, 10)
    assert not limits.fits(0, 1, 10)
    assert not limits.fits(2, 0, 1)
    assert not limits.full(1, 9)
    assert limits.full(2, 0) and limits.full(1, 10)
    assert split([]) == []
