"""Write-ahead log, spool segments and dead letters."""

from __future__ import annotations

import json
from pathlib import Path

from ingester.storage import DeadLetter, SegmentSequence, Spool, Wal


def make(tmp_path: Path) -> tuple[Wal, Spool]:
    seq = SegmentSequence(tmp_path / "wal", tmp_path / "spool")
    return Wal(tmp_path / "wal", seq), Spool(tmp_path / "spool", seq)


def test_wal_writes_through_and_settled_segments_are_removed(tmp_path: Path) -> None:
    wal, _ = make(tmp_path)
    segs = [wal.append(b'{"n":%d}' % i) for i in range(5)]
    # Written through at once (a killed process loses nothing), fsync'ed by the group commit
    files = list((tmp_path / "wal").glob("*.log"))
    assert len(files) == 1
    assert files[0].read_bytes().splitlines() == [b'{"n":%d}' % i for i in range(5)]
    assert wal.commits == 0
    wal.commit()
    assert wal.commits == 1
    wal.commit()
    assert wal.commits == 1  # nothing new: no fsync
    # The segment goes away once every record in it is settled and it is closed
    wal.settle(segs[:4])
    wal.close()
    assert len(list((tmp_path / "wal").glob("*.log"))) == 1
    wal.settle(segs[4:])
    wal.commit()
    assert not list((tmp_path / "wal").glob("*.log"))


def test_wal_write_failure_is_not_fatal(tmp_path: Path) -> None:
    wal, _ = make(tmp_path)
    (tmp_path / "wal").rmdir()
    (tmp_path / "wal").write_text("not a directory")
    assert wal.append(b"{}") == -1
    assert wal.failed_appends == 1


def test_unsettled_wal_segment_is_recovered_into_the_spool(tmp_path: Path) -> None:
    # Given a run that committed 10 records and "crashed" before settling 7 of them
    wal, _ = make(tmp_path)
    segs = [wal.append(b'{"n":%d}' % i) for i in range(10)]
    wal.commit()
    wal.settle(segs[:3])
    # When a new run starts on the same state dir
    wal2, spool2 = make(tmp_path)
    for leftover in wal2.leftover_segments():
        spool2.adopt(leftover)
    # Then the whole segment is in the spool (at-least-once) and the WAL is empty
    batch = spool2.next_batch(500, 4 * 1024 * 1024)
    assert batch is not None
    assert batch.records == [b'{"n":%d}' % i for i in range(10)]
    assert not wal2.leftover_segments()


def test_spool_skips_a_torn_last_line(tmp_path: Path) -> None:
    make(tmp_path)
    (tmp_path / "spool" / "0000000000000099.jsonl").write_bytes(b'{"a":1}\n{"a":2}\n{"a":')
    spool2 = Spool(tmp_path / "spool", SegmentSequence(tmp_path / "spool"))
    batch = spool2.next_batch(500, 10_000)
    assert batch is not None
    assert batch.records == [b'{"a":1}', b'{"a":2}']
    assert spool2.torn_lines == 1


def test_spool_cursor_survives_restart(tmp_path: Path) -> None:
    _, spool = make(tmp_path)
    spool.write([b'{"n":%d}' % i for i in range(6)])
    batch = spool.next_batch(4, 10_000)
    assert batch is not None and len(batch.records) == 4
    spool.ack(batch, [0, 1, 3])  # record 2 failed
    assert spool.pending_records == 3
    spool.close()
    # A restart resumes after the delivered prefix (records 0, 1), re-sending 2.. (at-least-once)
    spool2 = Spool(tmp_path / "spool", SegmentSequence(tmp_path / "spool"))
    batch2 = spool2.next_batch(500, 10_000)
    assert batch2 is not None
    assert batch2.records == [b'{"n":%d}' % i for i in range(2, 6)]
    spool2.ack(batch2, range(4))
    assert not spool2.has_pending()
    assert not list((tmp_path / "spool").glob("*"))


def test_spool_batches_respect_limits_and_order_across_segments(tmp_path: Path) -> None:
    seq = SegmentSequence(tmp_path / "spool")
    spool = Spool(tmp_path / "spool", seq, max_segment_bytes=50)
    for i in range(10):
        spool.write([b'{"n":%02d}' % i])
    seen: list[bytes] = []
    while (batch := spool.next_batch(3, 10_000)) is not None:
        assert len(batch.records) <= 3
        seen += batch.records
        spool.ack(batch, range(len(batch.records)))
    assert seen == [b'{"n":%02d}' % i for i in range(10)]


def test_dead_letter_keeps_record_and_reason(tmp_path: Path) -> None:
    dead = DeadLetter(tmp_path / "dl.jsonl")
    dead.write(b'{"x":"\xc3\xa9"}', "record_too_large", tweet_id="42", detail="too big")
    entry = json.loads((tmp_path / "dl.jsonl").read_text())
    assert entry["reason"] == "record_too_large"
    assert entry["tweet_id"] == "42"
    assert json.loads(entry["record"]) == {"x": "é"}
