"""The demo's embedded store: one SQLite row per transformed document.

The table's columns come from ``document.schema.json`` (the same contract OpenSearch's index template is
built from): nested objects are flattened (``author.username`` → ``author_username``), arrays are stored as
JSON text, booleans as 0/1; ``doc`` keeps the full JSON and ``stored_at`` when the demo wrote it. Side tables
(:data:`SIDE_TABLES`) hold one row per list item for per-item aggregates joined to ``tweets``: ``tweet_hashtags``
(tweet_id, hashtag), ``tweet_entities`` (tweet_id, type, text) and ``tweet_topics`` (tweet_id, domain, entity), e.g.
sentiment per entity. Writes are upserts on ``tweet_id``, so replaying the same tweets twice does not duplicate them.

Failure policy: opening a database that cannot be used (unwritable path, a ``tweets`` table of another schema
version) raises :class:`StoreError` naming the file, at start-up. A document that cannot be stored is found
by :meth:`SQLiteStore.problem` before the write (the caller sends it to the failed folder, as OpenSearch's
mapping rejections go to S3); a batch write is one transaction, rolled back whole and re-raised on any error,
so the table never holds half a batch. Nothing is retried here.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCUMENT_SCHEMA = REPO_ROOT / "lambda_src" / "transform" / "schemas" / "document.schema.json"
TABLE = "tweets"


@dataclass(frozen=True)
class SideTable:
    """One row per item of a document's list field, keyed by (tweet_id, *columns); replaced on every upsert."""

    name: str
    columns: tuple[str, ...]
    rows: Callable[[Mapping[str, Any]], Iterable[tuple[str, ...]]]


def _object_rows(field: str, keys: tuple[str, ...]) -> Callable[[Mapping[str, Any]], Iterable[tuple[str, ...]]]:
    def rows(doc: Mapping[str, Any]) -> Iterable[tuple[str, ...]]:
        items = doc.get(field) or []
        return [
            tuple(str(item[k]) for k in keys)
            for item in items
            if isinstance(item, Mapping) and all(isinstance(item.get(k), str) for k in keys)
        ]

    return rows


SIDE_TABLES = (
    SideTable("tweet_hashtags", ("hashtag",), lambda doc: [(str(tag),) for tag in doc.get("hashtags") or []]),
    SideTable("tweet_entities", ("type", "text"), _object_rows("entities", ("type", "text"))),
    SideTable("tweet_topics", ("domain", "entity"), _object_rows("topics", ("domain", "entity"))),
)


class StoreError(Exception):
    """The database cannot be used (wrong layout, unwritable path)."""


@dataclass(frozen=True)
class Column:
    name: str  # SQL column name
    path: tuple[str, ...]  # where the value sits in the document
    sql_type: str  # TEXT, INTEGER, REAL
    kind: str  # string, integer, number, boolean, array, any


def _types(spec: Mapping[str, Any]) -> set[str]:
    declared = spec.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list):
        return set(declared)
    if "enum" in spec:
        return {"string" if isinstance(v, str) else "null" for v in spec["enum"]}
    return set()


def columns_from_schema(schema: Mapping[str, Any]) -> list[Column]:
    """One column per leaf of the document schema, in the schema's order."""
    columns: list[Column] = []

    def walk(properties: Mapping[str, Any], prefix: tuple[str, ...]) -> None:
        for name, spec in properties.items():
            path = (*prefix, name)
            types = _types(spec) - {"null"}
            if "object" in types and "properties" in spec:
                walk(spec["properties"], path)
                continue
            if "array" in types:
                sql_type, kind = "TEXT", "array"
            elif "boolean" in types:
                sql_type, kind = "INTEGER", "boolean"
            elif "integer" in types:
                sql_type, kind = "INTEGER", "integer"
            elif "number" in types:
                sql_type, kind = "REAL", "number"
            elif "string" in types:
                sql_type, kind = "TEXT", "string"
            else:
                sql_type, kind = "TEXT", "any"
            columns.append(Column("_".join(path), path, sql_type, kind))

    walk(schema["properties"], ())
    return columns


def load_columns(schema_path: Path = DOCUMENT_SCHEMA) -> list[Column]:
    return columns_from_schema(json.loads(schema_path.read_text(encoding="utf-8")))


def _value(doc: Mapping[str, Any], column: Column) -> Any:
    value: Any = doc
    for key in column.path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    if value is None:
        return None
    if column.kind == "array":
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if column.kind == "boolean":
        return 1 if value else 0
    if column.kind == "any" and isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return value


class SQLiteStore:
    """Upserts documents into ``tweets`` and the side tables; one transaction per batch."""

    def __init__(self, path: Path | str, schema_path: Path = DOCUMENT_SCHEMA) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self.columns = load_columns(schema_path)
        self.required = tuple(json.loads(schema_path.read_text(encoding="utf-8")).get("required", ()))
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # one connection shared by the local Firehose (upserts) and the deleter (deletes), under self._lock
            self.conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self._create()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open SQLite database {path}: {exc}") from exc
        names = [c.name for c in self.columns]
        all_names = [*names, "doc", "stored_at"]
        placeholders = ", ".join("?" for _ in all_names)
        updates = ", ".join(f"{n} = excluded.{n}" for n in all_names if n != "tweet_id")
        self._upsert_sql = (
            f"INSERT INTO {TABLE} ({', '.join(all_names)}) VALUES ({placeholders}) "  # noqa: S608 - names from the schema
            f"ON CONFLICT(tweet_id) DO UPDATE SET {updates}"
        )

    def _create(self) -> None:
        defs = []
        for column in self.columns:
            constraint = " PRIMARY KEY NOT NULL" if column.name == "tweet_id" else ""
            defs.append(f"{column.name} {column.sql_type}{constraint}")
        defs += ["doc TEXT NOT NULL", "stored_at TEXT NOT NULL"]
        self.conn.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} ({', '.join(defs)})")
        existing = [row[1] for row in self.conn.execute(f"PRAGMA table_info({TABLE})")]
        expected = [*(c.name for c in self.columns), "doc", "stored_at"]
        if existing != expected:
            raise StoreError(
                f"{self.path} has a '{TABLE}' table from another schema version (columns {existing}); "
                "delete the file or choose another --db"
            )
        for side in SIDE_TABLES:
            cols = ", ".join(f"{c} TEXT NOT NULL" for c in side.columns)
            self.conn.execute(
                f"CREATE TABLE IF NOT EXISTS {side.name} (tweet_id TEXT NOT NULL, {cols}, "
                f"PRIMARY KEY (tweet_id, {', '.join(side.columns)}))"
            )
            # the last column is what dashboards group by (hashtag, entity text, topic entity)
            self.conn.execute(
                f"CREATE INDEX IF NOT EXISTS idx_{side.name}_{side.columns[-1]} ON {side.name} ({side.columns[-1]})"
            )
        for name, cols in (
            ("created_at", "created_at"),
            ("sentiment_created_at", "sentiment, created_at"),
            ("lang", "lang"),
        ):
            self.conn.execute(f"CREATE INDEX IF NOT EXISTS idx_{TABLE}_{name} ON {TABLE} ({cols})")

    def problem(self, doc: Any) -> str | None:
        """Why ``doc`` cannot be stored (the demo's analogue of a mapping rejection), or None."""
        if not isinstance(doc, Mapping):
            return f"document is a JSON {type(doc).__name__}, not an object"
        missing = [name for name in self.required if name not in doc]
        if missing:
            return f"document lacks required field(s): {', '.join(missing)}"
        if not isinstance(doc.get("tweet_id"), str) or not doc["tweet_id"]:
            return "tweet_id must be a non-empty string"
        return None

    def upsert(self, docs: Sequence[Mapping[str, Any]], stored_at: str) -> int:
        """Write ``docs`` (already checked with :meth:`problem`) in one transaction; return how many."""
        if not docs:
            return 0
        rows = []
        side_rows: dict[str, list[tuple[str, ...]]] = {side.name: [] for side in SIDE_TABLES}
        ids = []
        for doc in docs:
            row = [_value(doc, c) for c in self.columns]
            row.append(json.dumps(doc, ensure_ascii=False, separators=(",", ":")))
            row.append(stored_at)
            rows.append(row)
            ids.append((doc["tweet_id"],))
            for side in SIDE_TABLES:
                side_rows[side.name].extend((doc["tweet_id"], *item) for item in side.rows(doc))
        with self._lock:
            try:
                self.conn.execute("BEGIN")
                self.conn.executemany(self._upsert_sql, rows)
                for side in SIDE_TABLES:
                    marks = ", ".join("?" for _ in range(len(side.columns) + 1))
                    self.conn.executemany(f"DELETE FROM {side.name} WHERE tweet_id = ?", ids)  # noqa: S608
                    self.conn.executemany(f"INSERT OR IGNORE INTO {side.name} VALUES ({marks})", side_rows[side.name])  # noqa: S608
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
        return len(rows)

    def delete(self, posts: Sequence[str], authors: Sequence[str]) -> int:
        """Remove the documents of these post ids and of every post of these author ids (and their side rows);
        returns how many documents went. Raises ``sqlite3.Error`` (nothing removed)."""
        with self._lock:
            try:
                self.conn.execute("BEGIN")
                doomed = [(p,) for p in posts]
                for author in authors:
                    doomed += self.conn.execute(f"SELECT tweet_id FROM {TABLE} WHERE author_id = ?", (author,))  # noqa: S608
                removed = 0
                for side in SIDE_TABLES:
                    self.conn.executemany(f"DELETE FROM {side.name} WHERE tweet_id = ?", doomed)  # noqa: S608
                for item in doomed:
                    removed += self.conn.execute(f"DELETE FROM {TABLE} WHERE tweet_id = ?", item).rowcount  # noqa: S608
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
        return removed

    def count(self) -> int:
        with self._lock:
            return int(self.conn.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0])  # noqa: S608

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self.conn.execute(sql, tuple(params)))

    def close(self) -> None:
        self.conn.close()
