"""SQLiteStore: columns for every schema field, upsert on tweet_id, hashtag side table, indexes."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from scripts.demo.store import DOCUMENT_SCHEMA, SQLiteStore, StoreError
from tests.support.demo import make_doc

SCHEMA = json.loads(DOCUMENT_SCHEMA.read_text())


def schema_leaves(props: dict[str, Any], prefix: str = "") -> list[str]:
    out = []
    for name, spec in props.items():
        if "properties" in spec:
            out += schema_leaves(spec["properties"], f"{prefix}{name}_")
        else:
            out.append(prefix + name)
    return out


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    s = SQLiteStore(tmp_path / "t.db")
    yield s
    s.close()


def test_fixture_document_is_valid() -> None:
    jsonschema.validate(make_doc(), SCHEMA)


def test_table_has_a_column_per_schema_leaf_plus_doc_and_stored_at(store: SQLiteStore) -> None:
    cols = [r[1] for r in store.query("PRAGMA table_info(tweets)")]
    assert cols == [*schema_leaves(SCHEMA["properties"]), "doc", "stored_at"]
    assert {"author_username", "metrics_like_count", "sentiment_score_negative", "hashtags"} <= set(cols)


def test_values_are_flattened_and_typed(store: SQLiteStore) -> None:
    store.upsert([make_doc()], "2026-11-26T09:00:02.000Z")
    row = store.query(
        "SELECT author_username, author_followers_count, hashtags, is_reply, is_retweet, sentiment_score_positive, "
        "sentiment_skipped, doc, stored_at FROM tweets"
    )[0]
    assert row[:7] == ("ana", 10, '["python","release"]', 1, 0, 0.9, None)
    assert json.loads(row[7]) == make_doc()
    assert row[8] == "2026-11-26T09:00:02.000Z"


def test_null_sentiment_score_gives_null_columns(store: SQLiteStore) -> None:
    doc = make_doc(sentiment=None, sentiment_skipped="unsupported_language", sentiment_score=None, lang="ja")
    store.upsert([doc], "t")
    assert store.query("SELECT sentiment, sentiment_skipped, sentiment_score_mixed FROM tweets") == [
        (None, "unsupported_language", None)
    ]


def test_upsert_on_tweet_id_does_not_duplicate(store: SQLiteStore) -> None:
    store.upsert([make_doc(tweet_id="1"), make_doc(tweet_id="2")], "t1")
    store.upsert([make_doc(tweet_id="1", sentiment="NEGATIVE", hashtags=["rust"])], "t2")
    assert store.count() == 2
    assert store.query("SELECT sentiment, stored_at FROM tweets WHERE tweet_id = '1'") == [("NEGATIVE", "t2")]
    tags = store.query("SELECT tweet_id, hashtag FROM tweet_hashtags ORDER BY tweet_id, hashtag")
    assert tags == [("1", "rust"), ("2", "python"), ("2", "release")]


def test_top_hashtags_query(store: SQLiteStore) -> None:
    store.upsert([make_doc(tweet_id=str(i), hashtags=["a", "b"] if i % 2 else ["a"]) for i in range(5)], "t")
    top = store.query("SELECT hashtag, count(*) FROM tweet_hashtags GROUP BY hashtag ORDER BY 2 DESC")
    assert top == [("a", 5), ("b", 2)]


def test_sentiment_per_entity_and_per_topic_queries(store: SQLiteStore) -> None:
    # Given two tweets about Python (one also about Rust) and one about Rust alone
    rust = {"type": "Product", "text": "Rust", "probability": 0.8}
    store.upsert(
        [
            make_doc(tweet_id="1", sentiment="POSITIVE"),
            make_doc(tweet_id="2", sentiment="NEGATIVE", entities=[*make_doc()["entities"], rust]),
            make_doc(tweet_id="3", sentiment="NEGATIVE", entities=[rust], topics=[]),
        ],
        "t",
    )
    # Then the side tables join to the documents' sentiment
    per_entity = store.query(
        "SELECT e.text, t.sentiment, count(*) FROM tweet_entities e JOIN tweets t USING (tweet_id) "
        "GROUP BY e.text, t.sentiment ORDER BY 1, 2"
    )
    assert per_entity == [("Python", "NEGATIVE", 1), ("Python", "POSITIVE", 1), ("Rust", "NEGATIVE", 2)]
    per_topic = store.query("SELECT p.domain, p.entity, count(*) FROM tweet_topics p GROUP BY 1, 2 ORDER BY 1, 2")
    assert per_topic == [("Brand", "Python", 2), ("Technology", "Python", 2)]
    # and an upsert replaces a tweet's items (no stale entity stays behind)
    store.upsert([make_doc(tweet_id="3", entities=[])], "t2")
    assert store.query("SELECT count(*) FROM tweet_entities WHERE tweet_id = '3'") == [(0,)]
    assert store.query("SELECT entities FROM tweets WHERE tweet_id = '3'") == [("[]",)]


def test_dashboard_indexes_exist(store: SQLiteStore) -> None:
    indexes = {
        r[0]: r[1] for r in store.query("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
    }
    wanted = {
        "idx_tweets_created_at",
        "idx_tweets_sentiment_created_at",
        "idx_tweets_lang",
        "idx_tweet_hashtags_hashtag",
        "idx_tweet_entities_text",
        "idx_tweet_topics_entity",
    }
    assert wanted - set(indexes) == set()  # names every missing index at once
    plan = store.query(
        "EXPLAIN QUERY PLAN SELECT * FROM tweets WHERE sentiment = 'NEGATIVE' ORDER BY created_at DESC LIMIT 10"
    )
    assert "idx_tweets_sentiment_created_at" in " ".join(str(r) for r in plan)


def test_reopening_keeps_rows(tmp_path: Path) -> None:
    first = SQLiteStore(tmp_path / "t.db")
    first.upsert([make_doc()], "t")
    first.close()
    second = SQLiteStore(tmp_path / "t.db")
    assert second.count() == 1
    second.close()


def test_a_database_from_another_schema_is_refused(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "old.db")
    conn.execute("CREATE TABLE tweets (tweet_id TEXT PRIMARY KEY, text TEXT)")
    conn.close()
    with pytest.raises(StoreError, match="another schema version"):
        SQLiteStore(tmp_path / "old.db")


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        ([1, 2], "not an object"),
        ({"tweet_id": "1"}, "lacks required field"),
        (make_doc(tweet_id=""), "tweet_id"),
        (make_doc(tweet_id=5), "tweet_id"),
    ],
)
def test_problem_explains_unstorable_documents(store: SQLiteStore, doc: Any, reason: str) -> None:
    assert reason in (store.problem(doc) or "")
    assert store.problem(make_doc()) is None
