"""Pipeline: dedupe by tweet id, the 1,000 KiB limit, limit handling."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingester.envelope import encode, from_stream_message
from ingester.firehose.limits import MAX_RECORD_BYTES
from ingester.pipeline import Pipeline, RecentIds
from ingester.stats import Stats
from ingester.storage import DeadLetter, SegmentSequence, Spool, Wal
from ingester.writer import FirehoseWriter
from tests.support.ingester import FakeFirehose, stream_message


def make(tmp_path: Path, *, window: int = 100, limit: int | None = None) -> tuple[Pipeline, FirehoseWriter, Stats]:
    seq = SegmentSequence(tmp_path / "wal", tmp_path / "spool")
    wal = Wal(tmp_path / "wal", seq)
    stats = Stats()
    dead = DeadLetter(tmp_path / "dead-letter.jsonl")
    writer = FirehoseWriter(
        FakeFirehose(), "s", wal=wal, spool=Spool(tmp_path / "spool", seq), dead_letter=dead, stats=stats
    )
    return (
        Pipeline(wal=wal, writer=writer, dead_letter=dead, stats=stats, dedupe_window=window, limit=limit),
        writer,
        stats,
    )


def test_recent_ids_window() -> None:
    recent = RecentIds(3)
    assert [recent.seen(x) for x in "abca"] == [False, False, False, True]
    recent.seen("d")  # evicts "a"
    assert recent.seen("a") is False
    assert len(recent) == 3
    assert RecentIds(0).seen("a") is False and RecentIds(0).seen("a") is False


def test_duplicates_are_counted_not_queued(tmp_path: Path) -> None:
    pipeline, writer, stats = make(tmp_path)
    env = from_stream_message(stream_message(1), source="x")
    assert pipeline.accept(env) is True
    assert pipeline.accept(dict(env)) is False
    assert pipeline.accept(from_stream_message(stream_message(2), source="x")) is True
    assert writer.queue_depth() == 2
    assert stats.get("duplicates") == 1
    assert stats.get("read") == 3
    pipeline.reset_dedupe()
    assert pipeline.accept(env) is True


def _envelope_of_size(size: int) -> dict[str, object]:
    env = from_stream_message(stream_message(1, text=""), source="x")
    overhead = len(encode(env))
    env["tweet"]["text"] = "a" * (size - overhead)  # type: ignore[index]
    assert len(encode(env)) == size
    return env


@pytest.mark.parametrize(("size", "queued"), [(MAX_RECORD_BYTES, True), (MAX_RECORD_BYTES + 1, False)])
def test_record_over_1000_kib_goes_to_dead_letter(tmp_path: Path, size: int, queued: bool) -> None:
    pipeline, writer, stats = make(tmp_path)
    assert pipeline.accept(_envelope_of_size(size)) is queued
    assert writer.queue_depth() == (1 if queued else 0)
    dead_file = tmp_path / "dead-letter.jsonl"
    if queued:
        assert not dead_file.exists()
    else:
        entry = json.loads(dead_file.read_text())
        assert entry["reason"] == "record_too_large"
        assert entry["size_bytes"] == size
        assert stats.get("dead_lettered") == 1


def test_limit_stops_wanting_more(tmp_path: Path) -> None:
    pipeline, _, _ = make(tmp_path, limit=2)
    assert pipeline.wants_more
    pipeline.drop("invalid_json")
    pipeline.accept(from_stream_message(stream_message(1), source="x"))
    assert not pipeline.wants_more
