"""Write-ahead log, spool segments and dead letters."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from ingester.storage import (
    DeadLetter,
    SegmentSequence,
    Spool,
    StorageError,
    Wal,
    atomic_write,
    default_spool_max_bytes,
)
from tests.support.faults import ReadOnlyFolder


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


def test_wal_write_failure_raises_and_counts_nothing(tmp_path: Path) -> None:
    wal, _ = make(tmp_path)
    (tmp_path / "wal").rmdir()
    (tmp_path / "wal").write_text("not a directory")
    with pytest.raises(StorageError) as caught:
        wal.append(b"{}")
    assert caught.value.reason == "ENOTDIR"
    assert wal.failed_appends == 1
    assert wal.unsettled() == 0


def test_only_unsettled_wal_records_are_recovered_into_the_spool(tmp_path: Path) -> None:
    # Given a run that committed 10 records and "crashed" after settling 0-2 and 5 (two batches)
    wal, _ = make(tmp_path)
    segs = [wal.append(b'{"n":%d}' % i) for i in range(10)]
    wal.commit()
    wal.settle(segs[:3])
    wal.settle([segs[5]])
    # When a new run starts on the same state dir
    wal2, spool2 = make(tmp_path)
    for leftover in wal2.leftover_segments():
        spool2.adopt(leftover)
    # Then only the 6 unsettled records are in the spool, and the WAL is empty
    assert spool2.pending_records == 6
    batch = spool2.next_batch(500, 4 * 1024 * 1024)
    assert batch is not None
    assert batch.records == [b'{"n":%d}' % i for i in (3, 4, 6, 7, 8, 9)]
    assert not wal2.leftover_segments()
    assert not list((tmp_path / "wal").iterdir())


def test_spool_skips_a_torn_last_line(tmp_path: Path) -> None:
    make(tmp_path)
    (tmp_path / "spool" / "0000000000000099.jsonl").write_bytes(b'{"a":1}\n{"a":2}\n{"a":')
    spool2 = Spool(tmp_path / "spool", SegmentSequence(tmp_path / "spool"))
    batch = spool2.next_batch(500, 10_000)
    assert batch is not None
    assert batch.records == [b'{"a":1}', b'{"a":2}']
    assert spool2.torn_lines == 1


def test_spool_remembers_every_delivered_record_across_restart(tmp_path: Path) -> None:
    _, spool = make(tmp_path)
    spool.write([b'{"n":%d}' % i for i in range(6)])
    batch = spool.next_batch(4, 10_000)
    assert batch is not None and len(batch.records) == 4
    spool.ack(batch, [0, 1, 3])  # record 2 failed
    assert spool.pending_records == 3
    spool.close()
    # A restart sends only what was not delivered: 2, 4, 5 (not 3, delivered after a gap)
    spool2 = Spool(tmp_path / "spool", SegmentSequence(tmp_path / "spool"))
    assert spool2.pending_records == 3
    batch2 = spool2.next_batch(500, 10_000)
    assert batch2 is not None
    assert batch2.records == [b'{"n":%d}' % i for i in (2, 4, 5)]
    spool2.ack(batch2, range(3))
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


class DiskFillsAfter:
    """``os.write`` that lets ``budget`` bytes through (the last write short), then fails with ENOSPC."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.real = os.write

    def __call__(self, fd: int, data: bytes | memoryview) -> int:
        if self.budget <= 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        n = min(len(data), self.budget)
        self.budget -= n
        return self.real(fd, bytes(data[:n]))

    def writev(self, fd: int, buffers: list[bytes]) -> int:
        return self(fd, b"".join(buffers))

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(os, "write", self)
        monkeypatch.setattr(os, "writev", self.writev)


def test_short_spool_write_leaves_no_torn_line_and_counts_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a spool holding 3 records, and a disk with room for 1.5 more
    _, spool = make(tmp_path)
    spool.write([b'{"n":%d}' % i for i in range(3)])
    DiskFillsAfter(12).install(monkeypatch)
    # When a batch of 4 is written: the first write is short, the next fails
    with pytest.raises(StorageError) as caught:
        spool.write([b'{"n":%d}' % i for i in range(3, 7)])
    # Then none of the 4 counts, and the file is cut back to the 3 whole records
    assert caught.value.reason == "ENOSPC"
    assert spool.pending_records == 3
    monkeypatch.undo()
    (segment,) = (tmp_path / "spool").glob("*.jsonl")
    assert segment.read_bytes() == b'{"n":0}\n{"n":1}\n{"n":2}\n'
    assert spool.pending_bytes == segment.stat().st_size
    # And once there is room again the same batch is written whole, once
    spool.write([b'{"n":%d}' % i for i in range(3, 7)])
    batch = spool.next_batch(500, 10_000)
    assert batch is not None
    assert batch.records == [b'{"n":%d}' % i for i in range(7)]


def test_short_wal_write_is_cut_back_and_the_next_append_lines_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wal, _ = make(tmp_path)
    first = wal.append(b'{"n":0}')
    DiskFillsAfter(3).install(monkeypatch)
    with pytest.raises(StorageError):
        wal.append(b'{"n":1}')
    monkeypatch.undo()
    second = wal.append(b'{"n":2}')
    assert wal.unsettled() == 2
    (segment,) = (tmp_path / "wal").glob("*.log")
    assert segment.read_bytes() == b'{"n":0}\n{"n":2}\n'
    # settling by ticket still names the right lines after a crash
    wal.settle([first])
    wal.commit()
    _, spool2 = make(tmp_path)
    for leftover in Wal(tmp_path / "wal", SegmentSequence(tmp_path / "wal")).leftover_segments():
        spool2.adopt(leftover)
    batch = spool2.next_batch(500, 10_000)
    assert batch is not None and batch.records == [b'{"n":2}']
    assert second != first


def test_spool_cap_refuses_a_batch_that_does_not_fit(tmp_path: Path) -> None:
    seq = SegmentSequence(tmp_path / "spool")
    spool = Spool(tmp_path / "spool", seq, max_bytes=100)
    spool.write([b"x" * 59])  # 60 bytes on disk
    with pytest.raises(StorageError) as caught:
        spool.write([b"y" * 40])  # 41 more: over 100
    assert caught.value.reason == "spool_cap"
    assert spool.pending_records == 1
    spool.write([b"y" * 39])  # exactly 100
    assert spool.pending_bytes == 100
    # Draining the head segment frees its bytes
    while (batch := spool.next_batch(500, 10_000)) is not None:
        spool.ack(batch, range(len(batch.records)))
    assert spool.pending_bytes == 0
    spool.write([b"z" * 90])


def test_spool_from_an_older_version_keeps_its_delivered_prefix(tmp_path: Path) -> None:
    (tmp_path / "spool").mkdir()
    (tmp_path / "spool" / "0000000000000007.jsonl").write_bytes(b'{"a":1}\n{"a":2}\n{"a":3}\n')
    (tmp_path / "spool" / "0000000000000007.cursor").write_text("2")
    spool = Spool(tmp_path / "spool", SegmentSequence(tmp_path / "spool"))
    assert spool.pending_records == 1
    batch = spool.next_batch(500, 10_000)
    assert batch is not None and batch.records == [b'{"a":3}']


def test_dead_letter_failure_raises_and_leaves_no_partial_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = DeadLetter(tmp_path / "dl.jsonl")
    dead.write(b"{}", "first")
    DiskFillsAfter(10).install(monkeypatch)
    with pytest.raises(StorageError):
        dead.write(b"{}", "second")
    monkeypatch.undo()
    dead.write(b"{}", "third")
    reasons = [json.loads(line)["reason"] for line in (tmp_path / "dl.jsonl").read_text().splitlines()]
    assert reasons == ["first", "third"]


def test_default_spool_cap_is_half_a_shared_filesystem(tmp_path: Path) -> None:
    st = os.statvfs(tmp_path)
    assert not os.path.ismount(tmp_path)
    assert default_spool_max_bytes(tmp_path) == st.f_blocks * st.f_frsize // 2


def test_default_spool_cap_is_most_of_a_volume_of_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given STATE_DIR is a mount point (the Terraform state volume on EC2)
    monkeypatch.setattr(os.path, "ismount", lambda path: Path(path) == tmp_path)
    st = os.statvfs(tmp_path)
    # Then the spool may take 90 % of it
    assert default_spool_max_bytes(tmp_path) == int(st.f_blocks * st.f_frsize * 0.9)


# -- the state directory read-only for a while (issue 19) ----------------------------------------------------------


def wal_beside_a_read_only_switch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, records: int
) -> tuple[Wal, list[int], ReadOnlyFolder]:
    """A WAL holding ``records`` records, and a switch (still off) that makes its state dir read-only."""
    wal, _ = make(tmp_path)
    tickets = [wal.append(b'{"n":%d}' % i) for i in range(records)]
    readonly = ReadOnlyFolder(tmp_path)
    readonly.install(monkeypatch)
    return wal, tickets, readonly


def test_a_settled_segment_whose_delete_failed_is_deleted_once_the_disk_is_writable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a closed WAL segment whose records are all settled, and a state dir that turns read-only
    wal, tickets, readonly = wal_beside_a_read_only_switch(tmp_path, monkeypatch, 20)
    wal.settle(tickets)
    readonly.active = True
    # When the commit that closes the segment cannot delete it
    wal.close()
    assert len(wal.leftover_segments()) == 1
    assert wal.failed_deletes >= 1
    # Then the segment stays counted and is deleted by the first commit after the disk is writable again
    readonly.active = False
    wal.commit()
    assert wal.leftover_segments() == []
    assert not list((tmp_path / "wal").glob("*.marks"))


def test_marks_refused_by_a_read_only_disk_are_written_later_so_a_restart_resends_nothing_settled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given 30 records in the current WAL segment, 20 of them settled while the state dir was read-only
    wal, tickets, readonly = wal_beside_a_read_only_switch(tmp_path, monkeypatch, 30)
    readonly.active = True
    wal.settle(tickets[:20])
    assert readonly.refused >= 1
    # When the disk is writable again, a commit runs, and then the process is killed (no close)
    readonly.active = False
    wal.commit()
    monkeypatch.undo()
    # Then a restart recovers only the 10 unsettled records
    wal2, spool2 = make(tmp_path)
    for segment in wal2.leftover_segments():
        spool2.adopt(segment)
    batch = spool2.next_batch(500, 4 * 1024 * 1024)
    assert batch is not None
    assert batch.records == [b'{"n":%d}' % i for i in range(20, 30)]


def test_atomic_write_replaces_whole_or_not_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "state.json"
    atomic_write(target, b"old")
    readonly = ReadOnlyFolder(tmp_path)
    readonly.install(monkeypatch)
    readonly.active = True
    with pytest.raises(OSError):
        atomic_write(target, b"new")
    readonly.active = False
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # no temporary file left
    atomic_write(target, b"new")
    assert target.read_bytes() == b"new"


def test_a_delivered_spool_segment_the_disk_will_not_delete_is_not_sent_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a spool segment of 3 records, drained while the state dir is read-only (found by the chaos tier:
    # the refused delete killed the writer thread)
    _, spool = make(tmp_path)
    spool.write([b'{"n":1}', b'{"n":2}', b'{"n":3}'])
    readonly = ReadOnlyFolder(tmp_path)
    readonly.install(monkeypatch)
    batch = spool.next_batch(500, 4 * 1024 * 1024)
    assert batch is not None
    readonly.active = True
    spool.ack(batch, range(3))  # no exception
    # Then it is not drained again, and it is deleted once the disk lets go
    assert spool.next_batch(500, 4 * 1024 * 1024) is None
    readonly.active = False
    assert spool.next_batch(500, 4 * 1024 * 1024) is None
    assert not list((tmp_path / "spool").glob("*.jsonl"))
