"""The demo report's sentiment-by-language panel (issue 23: posts in eight languages are scored)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from scripts.demo.report import collect, connect_readonly, render
from scripts.demo.store import SQLiteStore
from tests.support.demo import make_doc


def test_sentiment_is_counted_and_drawn_per_language(tmp_path: Path) -> None:
    # Given stored posts in three languages, one of them unscored (a language without a model)
    store = SQLiteStore(tmp_path / "t.db")
    docs = [
        make_doc(tweet_id="1", lang="es", sentiment="POSITIVE"),
        make_doc(tweet_id="2", lang="es", sentiment="NEGATIVE"),
        make_doc(tweet_id="3", lang="es", sentiment="POSITIVE"),
        make_doc(tweet_id="4", lang="pt", sentiment="NEUTRAL"),
        make_doc(tweet_id="5", lang="ja", sentiment=None, sentiment_skipped="unsupported_language"),
    ]
    store.upsert(docs, "2026-11-26T09:06:00.000Z")
    # When the report reads the store
    with connect_readonly(store.path) as conn:
        data = collect(conn)
    store.close()
    # Then each language has its counts per sentiment, the busiest first, and the page has the panel
    assert data.lang_sentiments == [("es", {"NEGATIVE": 1, "POSITIVE": 2}), ("ja", {"SKIPPED": 1}),
                                    ("pt", {"NEUTRAL": 1})]  # fmt: skip
    page = render(data, refresh_s=None, generated=datetime(2026, 11, 30, 12, 0, tzinfo=UTC))
    assert 'id="panel-language-sentiment"' in page and "Sentiment by language" in page
