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


def test_all_panels_count_one_snapshot_while_the_demo_writes(store: SQLiteStore) -> None:
    # Given the demo's writer commits more posts between two of the report's queries
    writer = sqlite3.connect(store.path)
    more = [make_doc(tweet_id=str(100 + i), sentiment="POSITIVE", lang="fr", created_at="2026-11-26T09:03:00.000Z")
            for i in range(5)]  # fmt: skip

    def write_between_queries(statement: str) -> None:
        if "GROUP BY 1 ORDER BY 2 DESC" in statement and not more_written:
            more_written.append(True)
            store.upsert(more, "2026-11-26T09:07:00.000Z")

    more_written: list[bool] = []
    with connect_readonly(store.path) as conn:
        conn.set_trace_callback(write_between_queries)
        data = collect(conn)
        conn.set_trace_callback(None)
        later = collect(conn)
    writer.close()
    # Then the report is of one moment: every panel agrees with the total it printed
    assert more_written
    assert data.total == 4 and sum(n for _, n in data.langs) == 4 and sum(n for _, n in data.kinds) == 4
    assert later.total == 9  # and the next report sees the new posts


def test_a_post_without_a_usable_time_is_counted_not_raised(store: SQLiteStore) -> None:
    # created_at a string SQLite cannot read as a time: its bucket would be NULL
    store.upsert([make_doc(tweet_id="9", created_at="yesterday", rules=["brand"])], "2026-11-26T09:06:00.000Z")
    with connect_readonly(store.path) as conn:
        data = collect(conn)
    assert data.total == 5 and data.off_axis == 1
    assert sum(sum(b.values()) for b in data.by_rule["brand"].values()) == 3  # the readable ones
    assert "1 posts dated outside the axis not drawn" in render(data, refresh_s=None, generated=NOW)


def test_one_outlier_date_does_not_stretch_the_time_axis(store: SQLiteStore) -> None:
    # Given one post dated years before the rest (a skewed clock)
    store.upsert([make_doc(tweet_id="8", created_at="2019-01-01T00:00:00.000Z", rules=["brand"])], "2026-11-26T09:06Z")
    with connect_readonly(store.path) as conn:
        data = collect(conn)
    # Then the axis still spans 09:00-09:05 in one-minute buckets, and the outlier is counted apart
    assert data.bucket_s == 60 and len(data.buckets) == 6
    assert data.off_axis == 1


def test_the_header_names_the_sources_of_the_documents_not_only_this_run(store: SQLiteStore) -> None:
    # Given a store left by an earlier run of another source
    store.upsert([make_doc(tweet_id="7", source="bluesky")], "2026-11-26T09:06:00.000Z")
    with connect_readonly(store.path) as conn:
        page = render(collect(conn), refresh_s=None, generated=NOW, source="sample scripts/data/sample.jsonl")
    meta = page.split('<div class="meta">', 1)[1].split("</div>", 1)[0]
    assert meta.startswith("5 documents (source replay 4, bluesky 1) · this run reads sample ")


def test_net_sentiment_legend_has_a_swatch_per_rule_and_charts_say_utc(store: SQLiteStore) -> None:
    with connect_readonly(store.path) as conn:
        page = render(collect(conn), refresh_s=None, generated=NOW)
    net = page.split('data-panel="net-sentiment"', 1)[1].split("</svg>", 1)[0]
    swatches = re.findall(r'<g class="legend-entry" data-key="([^"]+)"><rect class="swatch" [^>]*fill="([^"]+)"', net)
    lines = dict(re.findall(r'<polyline class="line" data-rule="([^"]+)" points="[^"]*" fill="none" stroke="([^"]+)"',
                            net))  # fmt: skip
    assert dict(swatches) == lines and len(lines) == 2
    by_rule = page.split('data-panel="sentiment-by-rule"', 1)[1].split("</svg>", 1)[0]
    assert re.findall(r'class="legend-entry" data-key="(\w+)"', by_rule) == ["POSITIVE", "NEGATIVE"]
    assert "09:05 UTC</text>" in by_rule
