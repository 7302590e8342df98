"""Where processed batches go: Ok documents into SQLite, failures into the failed folder, counts into stats."""

from __future__ import annotations

import json
import logging
import random
import sqlite3
import threading
import time
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ingester.firehose.failed_records import (
    OPENSEARCH_FAILED,
    PROCESSING_FAILED,
    Failure,
    Line,
    opensearch_failed_line,
)
from scripts.demo.failed import FailedWriter
from scripts.demo.firehose import BatchOutcome
from scripts.demo.store import SQLiteStore

if TYPE_CHECKING:
    from scripts.demo.opensearch_sink import OpenSearchIndexer

log = logging.getLogger(__name__)

SENTIMENTS = ("POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED", "SKIPPED")
LATEST_KEEP = 12
RESERVOIR = 100_000  # latencies kept for the run's percentiles; beyond it, a uniform random sample
RECENT_LATENCIES = 2_000  # what the live view's p50 is computed over
SQLITE_INDEX = "sqlite:tweets"  # esIndexName of documents the SQLite store refused or could not take


def iso_now() -> str:
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def parse_iso(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


@dataclass(frozen=True)
class LatestTweet:
    sentiment: str  # one of SENTIMENTS
    lang: str
    username: str
    text: str


@dataclass
class Snapshot:
    """A consistent copy of the counters, for the view and the summary."""

    elapsed_s: float
    stored: int
    processing_failed: int
    store_rejected: int
    dropped: int
    batches: int
    rate_now: float
    sentiments: dict[str, int]
    top_hashtags: list[tuple[str, int]]
    latest: list[LatestTweet]
    langs: dict[str, int]
    failed_by_code: dict[str, int]
    latencies_ms: list[float] = field(default_factory=list)  # whole run (a uniform sample past RESERVOIR)
    recent_latencies_ms: list[float] = field(default_factory=list)  # the last RECENT_LATENCIES tweets
    source: dict[str, Any] = field(default_factory=dict)  # the ingester's own counters, when known
    buffered: int = 0
    top_entities: list[tuple[str, int]] = field(default_factory=list)  # X's named entities (entities.text)
    top_topics: list[tuple[str, int]] = field(default_factory=list)  # X's context annotations (topics.entity)


def _names(items: object, key: str) -> list[str]:
    """The ``key`` of each object in a document's list field (entities, topics), each name once per document."""
    if not isinstance(items, list):
        return []
    return list(dict.fromkeys(str(item[key]) for item in items if isinstance(item, dict) and item.get(key)))


class DemoStats:
    """Thread-safe counters updated per delivered batch."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.started = clock()
        self.stored = 0
        self.processing_failed = 0
        self.store_rejected = 0
        self.dropped = 0
        self.batches = 0
        self.sentiments: Counter[str] = Counter()
        self.langs: Counter[str] = Counter()
        self.hashtags: Counter[str] = Counter()
        self.entities: Counter[str] = Counter()
        self.topics: Counter[str] = Counter()
        self.failed_by_code: Counter[str] = Counter()
        self.latest: deque[LatestTweet] = deque(maxlen=LATEST_KEEP)
        self.latencies_ms: list[float] = []
        self.recent_latencies: deque[float] = deque(maxlen=RECENT_LATENCIES)
        self._latency_count = 0
        self._rng = random.Random(0)  # noqa: S311 - reservoir sampling, not security
        self._window: deque[tuple[float, int]] = deque()  # (time, stored) marks for the recent rate

    def record_docs(self, docs: list[dict[str, Any]], stored_ts: float) -> None:
        with self._lock:
            self.stored += len(docs)
            for doc in docs:
                sentiment = doc.get("sentiment") or "SKIPPED"
                self.sentiments[sentiment] += 1
                self.langs[str(doc.get("lang"))] += 1
                self.hashtags.update(list(dict.fromkeys(str(h) for h in doc.get("hashtags") or [])))
                self.entities.update(_names(doc.get("entities"), "text"))
                self.topics.update(_names(doc.get("topics"), "entity"))
                received = parse_iso(doc.get("received_at"))
                if received is not None:
                    self._add_latency(max(0.0, (stored_ts - received) * 1000))
                author = doc.get("author") or {}
                self.latest.append(
                    LatestTweet(sentiment, str(doc.get("lang")), str(author.get("username") or "?"), str(doc["text"]))
                )
            now = self._clock()
            self._window.append((now, self.stored))

    def _add_latency(self, value: float) -> None:
        """Keep every latency up to RESERVOIR, then a uniform sample of the run (Vitter's algorithm R)."""
        self.recent_latencies.append(value)
        self._latency_count += 1
        if len(self.latencies_ms) < RESERVOIR:
            self.latencies_ms.append(value)
            return
        slot = self._rng.randrange(self._latency_count)
        if slot < RESERVOIR:
            self.latencies_ms[slot] = value

    def record_failures(self, processing_failed: int, store_rejected: int, dropped: int, codes: Counter[str]) -> None:
        with self._lock:
            self.processing_failed += processing_failed
            self.store_rejected += store_rejected
            self.dropped += dropped
            self.failed_by_code.update(codes)
            self.batches += 1

    def snapshot(self, window_s: float = 3.0, *, full: bool = False) -> Snapshot:
        """Counters now; ``full`` adds the whole run's latencies (the summary), otherwise only recent ones."""
        with self._lock:
            now = self._clock()
            while len(self._window) > 1 and now - self._window[0][0] > window_s:
                self._window.popleft()
            if len(self._window) > 1 and now > self._window[0][0]:
                first_t, first_n = self._window[0]
                rate = (self.stored - first_n) / (now - first_t)
            elif self._window and self.started < now <= self.started + window_s:
                # One batch so far, early in the run: the rate since the start, not 0/s beside 630 stored.
                rate = self.stored / (now - self.started)
            else:
                rate = 0.0
            if self._window and now - self._window[-1][0] > window_s:
                rate = 0.0
            return Snapshot(
                elapsed_s=now - self.started,
                stored=self.stored,
                processing_failed=self.processing_failed,
                store_rejected=self.store_rejected,
                dropped=self.dropped,
                batches=self.batches,
                rate_now=rate,
                sentiments={s: self.sentiments.get(s, 0) for s in SENTIMENTS},
                top_hashtags=self.hashtags.most_common(8),
                latest=list(self.latest),
                langs=dict(self.langs.most_common()),
                failed_by_code=dict(self.failed_by_code),
                latencies_ms=list(self.latencies_ms) if full else [],
                recent_latencies_ms=list(self.recent_latencies),
                top_entities=self.entities.most_common(8),
                top_topics=self.topics.most_common(8),
            )


@dataclass(eq=False)
class StoreTarget:
    """The local firehose's destination: SQLite for Ok documents, the failed folder for everything else."""

    store: SQLiteStore
    failed: FailedWriter
    stats: DemoStats
    lambda_arn: str
    indexer: OpenSearchIndexer | None = None

    def deliver(self, outcome: BatchOutcome) -> None:
        docs: list[dict[str, Any]] = []
        rejected: list[Line] = []
        codes: Counter[str] = Counter()
        now_ms = int(time.time() * 1000)
        for record, data in outcome.ok:
            try:
                doc = json.loads(data)
                problem = self.store.problem(doc)
            except (ValueError, UnicodeDecodeError) as exc:
                problem = f"document is not JSON: {exc}"
            if problem is None:
                docs.append(doc)
                continue
            codes["StoreRejected"] += 1
            rejected.append(
                opensearch_failed_line(
                    data,
                    Failure("400", problem, 1, record.arrival_ms, now_ms),
                    document_id=None,
                    index_name=SQLITE_INDEX,
                )
            )
        # Failures are made durable before the documents are committed, so a crash in between can only
        # duplicate (upserts make that harmless), never lose.
        for failure in outcome.failed:
            codes[failure.error_code] += 1
        self.failed.write(PROCESSING_FAILED, [f.as_json(self.lambda_arn) for f in outcome.failed])
        self.failed.write(OPENSEARCH_FAILED, rejected)
        if rejected:
            log.warning("store rejected %s document(s); see %s", len(rejected), self.failed.root / OPENSEARCH_FAILED)
        if outcome.failed:
            log.warning(
                "%s record(s) failed processing (%s); see %s",
                len(outcome.failed),
                ", ".join(f"{c}={n}" for c, n in sorted(codes.items()) if c != "StoreRejected"),
                self.failed.root / PROCESSING_FAILED,
            )
        stored_at = iso_now()
        try:
            self.store.upsert(docs, stored_at)
        except sqlite3.Error as exc:
            # The database is unusable (locked for too long, disk full): keep the documents on disk in the
            # destination-failure format instead of losing them, as Firehose backs up what OpenSearch refuses.
            log.exception("SQLite upsert of %s document(s) failed; writing them to the failed folder", len(docs))
            self.failed.write(OPENSEARCH_FAILED, [_rejection(d, now_ms, f"SQLite: {exc}") for d in docs])
            codes["StoreUnavailable"] += len(docs)
            self.stats.record_failures(len(outcome.failed), len(rejected) + len(docs), outcome.dropped, codes)
            return
        self.stats.record_docs(docs, time.time())
        index_rejected = self._index(docs, now_ms, codes)
        self.stats.record_failures(len(outcome.failed), len(rejected) + index_rejected, outcome.dropped, codes)

    def _index(self, docs: list[dict[str, Any]], now_ms: int, codes: Counter[str]) -> int:
        """Also index into OpenSearch (--opensearch-url); what it refuses goes to the failed folder."""
        if self.indexer is None or not docs:
            return 0
        refused = self.indexer.index(docs)
        if refused:
            entries = [_rejection(r.doc, now_ms, r.reason, code=r.status, index=r.index) for r in refused]
            self.failed.write(OPENSEARCH_FAILED, entries)
            for r in refused:
                codes[f"OpenSearch.{r.status}"] += 1
            log.warning("OpenSearch refused %s document(s); see %s", len(refused), self.failed.root / OPENSEARCH_FAILED)
        return len(refused)


def _rejection(
    doc: Mapping[str, Any], now_ms: int, message: str, *, code: str = "503", index: str = SQLITE_INDEX
) -> Line:
    raw = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return opensearch_failed_line(
        raw, Failure(code, message, 1, now_ms, now_ms), document_id=doc.get("tweet_id"), index_name=index
    )
