"""The demo's HTML report: the panels' numbers from the store, the page (escaped, self-contained), the atomic write."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scripts.demo.report import HEX, ReportData, ReportWriter, collect, connect_readonly, render
from scripts.demo.store import SQLiteStore
from tests.support.demo import make_doc

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    s = SQLiteStore(tmp_path / "t.db")
    docs = [
        make_doc(tweet_id="1", sentiment="NEGATIVE", rules=["brand", "tech"], created_at="2026-11-26T09:00:10.000Z",
                 author={"id": "1", "username": "grumpy"}, metrics={"like_count": 1, "retweet_count": 0,
                 "reply_count": 0, "quote_count": 0}, is_retweet=True, is_reply=False),
        make_doc(tweet_id="2", sentiment="NEGATIVE", rules=["brand"], created_at="2026-11-26T09:01:10.000Z",
                 author={"id": "1", "username": "grumpy"}, lang="es", is_reply=True),
        make_doc(tweet_id="3", sentiment="POSITIVE", rules=["brand"], created_at="2026-11-26T09:05:00.000Z",
                 text="<script>alert(1)</script> & more", metrics={"like_count": 50, "retweet_count": 5,
                 "reply_count": 1, "quote_count": 0}, is_reply=False),
        make_doc(tweet_id="4", sentiment=None, sentiment_skipped="too_short", rules=[], is_reply=False,
                 created_at="2026-11-26T09:05:30.000Z", hashtags=["python"]),
    ]  # fmt: skip
    s.upsert(docs, "2026-11-26T09:06:00.000Z")
    yield s
    s.close()


def test_collect_counts_every_panel_from_the_store(store: SQLiteStore) -> None:
    with connect_readonly(store.path) as conn:
        data = collect(conn)
    assert data.total == 4
    assert data.sentiments == {"NEGATIVE": 2, "POSITIVE": 1, "SKIPPED": 1}
    assert data.bucket_s == 60 and data.buckets[0] == int(datetime(2026, 11, 26, 9, 0, tzinfo=UTC).timestamp())
    assert len(data.buckets) == 6  # 09:00 … 09:05
    assert sum(sum(b.values()) for b in data.by_rule["brand"].values()) == 3
    assert list(data.by_rule) == ["brand", "tech"]  # by volume
    assert data.negative_authors == [("grumpy", 2)]
    assert data.langs[0] == ("en", 3)
    assert data.engaged[0][1].startswith("<script>") and data.engaged[0][2:5] == (50, 5, 1)
    assert dict(data.kinds) == {"retweet": 1, "reply": 1, "quote": 0, "original": 2}
    assert dict(data.hashtags)["python"] == 4
    assert dict(data.topics)["Python"] == {"NEGATIVE": 2, "POSITIVE": 1, "SKIPPED": 1}


def test_collect_on_a_database_without_the_table_is_empty(tmp_path: Path) -> None:
    sqlite3.connect(tmp_path / "empty.db").close()
    with connect_readonly(tmp_path / "empty.db") as conn:
        data = collect(conn)
    assert data.total == 0
    assert render(data, refresh_s=3, generated=NOW).count("no data yet") == 11  # every panel


def test_page_escapes_tweet_text_and_loads_nothing_from_the_network(store: SQLiteStore) -> None:
    with connect_readonly(store.path) as conn:
        page = render(collect(conn), refresh_s=3, generated=NOW)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page
    assert not re.search(r"(src|href)=|@import|url\(", page)
    assert '<meta http-equiv="refresh" content="3">' in page
    assert 'data-sentiment="NEGATIVE" d="' in page and f'fill="{HEX["NEGATIVE"]}"' in page
    assert 'http-equiv="refresh"' not in render(ReportData(), refresh_s=None, generated=NOW)


def test_writer_replaces_the_page_atomically_and_at_most_every_interval(store: SQLiteStore, tmp_path: Path) -> None:
    target = tmp_path / "out" / "report.html"
    writer = ReportWriter(store.path, target, refresh_s=3)
    writer.maybe_write(100.0)
    first = target.stat().st_ino
    writer.maybe_write(101.0)  # within the interval: not rewritten
    assert target.stat().st_ino == first
    writer.maybe_write(103.0)
    assert target.stat().st_ino != first  # a new file renamed over the old one, never written in place
    assert writer.write(final=True)
    writer.close()
    assert 'http-equiv="refresh"' not in target.read_text()
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]  # no temporary file left


def test_a_failed_write_is_reported_not_raised(
    store: SQLiteStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    writer = ReportWriter(store.path, blocker / "report.html")
    assert writer.write(final=False) is False
    assert writer.write(final=False) is False
    writer.close()
    assert len([r for r in caplog.records if "could not write the HTML report" in r.message]) == 1
