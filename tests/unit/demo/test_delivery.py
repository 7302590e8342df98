"""StoreTarget and FailedWriter: Ok documents into SQLite, failures into an S3-like folder layout."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scripts.demo import delivery
from scripts.demo.delivery import DemoStats, StoreTarget
from scripts.demo.failed import FailedWriter
from scripts.demo.firehose import BatchOutcome, BufferedRecord, FailedRecord
from scripts.demo.store import SQLiteStore
from tests.support.demo import make_doc


def test_failed_writer_uses_the_firehose_s3_layout(tmp_path: Path) -> None:
    writer = FailedWriter(tmp_path / "failed", stream_name="demo")
    path = writer.write("processing-failed", [{"a": 1}, {"b": "é"}], now=datetime(2026, 11, 26, 9, 5, 7, tzinfo=UTC))
    assert path is not None
    rel = path.relative_to(tmp_path / "failed").as_posix()
    assert re.fullmatch(r"processing-failed/2026/11/26/09/demo-1-2026-11-26-09-05-07-[0-9a-f-]{36}", rel), rel
    assert [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] == [{"a": 1}, {"b": "é"}]
    assert writer.write("processing-failed", []) is None
    assert writer.files() == [path]


def test_target_stores_ok_documents_and_writes_failures(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "t.db")
    failed = FailedWriter(tmp_path / "failed")
    stats = DemoStats()
    target = StoreTarget(store, failed, stats, "arn:aws:lambda:us-east-1:123456789012:function:x")
    good = make_doc(tweet_id="7", hashtags=["aws"], sentiment="NEGATIVE")
    outcome = BatchOutcome(
        ok=[
            (BufferedRecord("r1", b"{}", 1), json.dumps(good).encode()),
            (BufferedRecord("r2", b"{}", 1), b"not json"),
        ],
        failed=[FailedRecord(BufferedRecord("r3", b"\xffraw", 1), "Lambda.ProcessingFailed", "bad", 1, 2)],
        dropped=1,
    )
    target.deliver(outcome)
    assert store.count() == 1
    snap = stats.snapshot()
    assert (snap.stored, snap.processing_failed, snap.store_rejected, snap.dropped) == (1, 1, 1, 1)
    assert snap.sentiments["NEGATIVE"] == 1
    assert snap.top_hashtags == [("aws", 1)]
    assert snap.top_entities == [("Python", 1)]  # X's annotations of the stored document
    assert snap.top_topics == [("Python", 1)]  # one topic entity in two domains counts once per tweet
    assert snap.failed_by_code == {"Lambda.ProcessingFailed": 1, "StoreRejected": 1}
    files = {p.relative_to(tmp_path / "failed").parts[0]: p for p in failed.files()}
    assert set(files) == {"processing-failed", "AmazonOpenSearchService-failed"}
    (line,) = files["processing-failed"].read_text().splitlines()
    assert base64.b64decode(json.loads(line)["rawData"]) == b"\xffraw"
    (rejected,) = files["AmazonOpenSearchService-failed"].read_text().splitlines()
    assert base64.b64decode(json.loads(rejected)["rawData"]) == b"not json"
    assert "not JSON" in json.loads(rejected)["errorMessage"]
    store.close()


def test_stats_latency_and_skipped_sentiment() -> None:
    stats = DemoStats()
    doc = make_doc(received_at="2026-11-26T09:00:00.000Z", sentiment=None)
    stats.record_docs([doc], datetime(2026, 11, 26, 9, 0, 0, 250000, tzinfo=UTC).timestamp())
    snap = stats.snapshot(full=True)
    assert snap.sentiments["SKIPPED"] == 1
    assert [round(x) for x in snap.latencies_ms] == [250]
    assert [round(x) for x in snap.recent_latencies_ms] == [250]
    assert stats.snapshot().latencies_ms == []  # the live view does not copy the whole run each frame


def test_latency_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(delivery, "RESERVOIR", 100)
    monkeypatch.setattr(delivery, "RECENT_LATENCIES", 10)
    stats = DemoStats()
    base = datetime(2026, 11, 26, 9, 0, 0, tzinfo=UTC)
    for i in range(1000):
        doc = make_doc(tweet_id=str(i), received_at="2026-11-26T09:00:00.000Z")
        stats.record_docs([doc], base.timestamp() + i / 1000)  # latency i ms
    snap = stats.snapshot(full=True)
    assert len(snap.latencies_ms) == 100
    assert 250 < sorted(snap.latencies_ms)[50] < 750  # a uniform sample of 0..999 ms
    assert [round(x) for x in snap.recent_latencies_ms] == list(range(990, 1000))
    assert snap.latest[0].username == "ana"


def test_documents_are_kept_on_disk_when_sqlite_fails(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "t.db")
    failed = FailedWriter(tmp_path / "failed")
    stats = DemoStats()
    target = StoreTarget(store, failed, stats, "arn")
    store.conn.execute("DROP TABLE tweet_hashtags")  # the next upsert fails inside its transaction
    doc = make_doc(tweet_id="9")
    target.deliver(BatchOutcome(ok=[(BufferedRecord("r1", b"{}", 1), json.dumps(doc).encode())]))
    (path,) = failed.files()
    line = json.loads(path.read_text())
    assert json.loads(base64.b64decode(line["rawData"])) == doc
    assert "SQLite" in line["errorMessage"]
    assert stats.snapshot().failed_by_code == {"StoreUnavailable": 1}
    assert store.count() == 0  # rolled back, not half-written
    store.close()


def test_the_first_progress_line_shows_the_rate_since_the_start() -> None:
    # Given one batch of 630 documents stored 2 s into the run (one window mark only)
    now = [100.0]
    stats = DemoStats(clock=lambda: now[0])
    now[0] = 102.0
    stats.record_docs([make_doc(tweet_id=str(i)) for i in range(630)], stored_ts=now[0])
    # Then the rate is the run's so far (315/s), not "630 stored (0/s)"
    assert stats.snapshot().rate_now == pytest.approx(315.0)
    # and once the batch is older than the window with nothing after it, the rate falls to 0
    now[0] = 110.0
    assert stats.snapshot().rate_now == 0.0
