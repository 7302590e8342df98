"""Deletion benchmark (``make bench``): deletion lag beside ingest latency; figures are reported, never asserted.

The ingester runs in process against the tests' fake Jetstream, a Firehose stand-in that indexes each accepted
record into the tests' fake OpenSearch at once (no Firehose buffer: on AWS add the buffering interval to the
ingest figure, and the deleter removes a copy that arrives later by its re-apply), and the real deleter sending
``_delete_by_query`` to that fake over HTTP. Posts arrive at ``--rate`` a second; every fifth one is deleted
``--delete-after`` seconds after it was posted.

* ingest latency: the post sent by Jetstream → its document in the index;
* deletion lag: the delete sent by Jetstream → the document gone from the index (what the 60 s p99 target is
  about), for the default DELETION_INTERVAL_S (5 s) and a short one;
* the deleter's own lag (tombstone recorded → applied), as the DeletionLag metrics report it.

    python scripts/dev/bench/deletion_bench.py [--posts 1000] [--rate 100] [--delete-after 1]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[3]
sys.path[:0] = [str(REPO_ROOT / "lambda_src"), str(REPO_ROOT)]

from ingester.app import run  # noqa: E402
from ingester.config import Settings  # noqa: E402
from ingester.deletions.deleter import percentile  # noqa: E402
from ingester.envelope import bluesky_post_uri  # noqa: E402
from ingester.stats import read_status  # noqa: E402
from tests.support.fake_jetstream import BASE_TIME_US, DID, delete_event, fake_jetstream, post_event  # noqa: E402
from tests.support.fake_opensearch import FakeOpenSearch, serve  # noqa: E402
from tests.support.ingester import FakeFirehose  # noqa: E402

INDEX = "tweets-bench"


class IndexingFirehose(FakeFirehose):
    """Indexes each accepted record into the fake OpenSearch and notes when."""

    def __init__(self, fake: FakeOpenSearch) -> None:
        super().__init__()
        self.fake = fake
        self.indexed_at: dict[str, float] = {}

    def put_record_batch(self, *, DeliveryStreamName: str, Records: list[dict[str, bytes]]) -> dict[str, Any]:
        answer = super().put_record_batch(DeliveryStreamName=DeliveryStreamName, Records=Records)
        now = time.monotonic()
        for record in Records:
            envelope = json.loads(record["Data"])
            doc = {"tweet_id": envelope["tweet"]["id"], "author": {"id": envelope["author"]["id"]}}
            self.fake.state.indices.setdefault(INDEX, {})[doc["tweet_id"]] = doc
            self.indexed_at[doc["tweet_id"]] = now
        return answer


def timed_deletes(fake: FakeOpenSearch) -> dict[str, float]:
    """Wrap the fake's delete-by-query to note when each document left the index."""
    gone: dict[str, float] = {}
    original = fake.state.delete_by_query

    def wrapped(pattern: str, query: dict[str, Any]) -> tuple[int, Any]:
        before = set(fake.state.indices.get(INDEX, {}))
        answer = original(pattern, query)
        now = time.monotonic()
        for post in before - set(fake.state.indices.get(INDEX, {})):
            gone.setdefault(post, now)
        return answer

    fake.state.delete_by_query = wrapped  # type: ignore[method-assign]
    return gone


def one_run(posts: int, rate: float, delete_after: float, interval_s: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, fake_jetstream() as js, serve() as fake:
        firehose = IndexingFirehose(fake)
        gone = timed_deletes(fake)
        settings = Settings(
            source="bluesky",
            delivery_stream="bench",
            state_dir=Path(tmp) / "state",
            tracked_terms=("aws",),
            bluesky_endpoints=(js.url,),
            opensearch_endpoint=fake.url,
            linger_ms=50,
            status_interval_s=0.2,
            deletion_interval_s=interval_s,
        )
        stop = threading.Event()
        thread = threading.Thread(
            target=run, args=(settings,), kwargs={"firehose_client": firehose, "stop_event": stop}
        )
        thread.start()
        while js.connections() < 1:
            time.sleep(0.01)
        posted: dict[str, float] = {}
        deleted: dict[str, float] = {}
        pending: list[tuple[float, int]] = []
        start = time.monotonic()
        for i in range(posts):
            now = time.monotonic()
            while pending and pending[0][0] <= now:
                _, k = pending.pop(0)
                js.add(delete_event(BASE_TIME_US + 10 * posts + k, f"3k{k}"))
                deleted[bluesky_post_uri(DID, f"3k{k}")] = time.monotonic()
            js.add(post_event(BASE_TIME_US + i, f"post {i} about aws", rkey=f"3k{i}"))
            posted[bluesky_post_uri(DID, f"3k{i}")] = time.monotonic()
            if i % 5 == 0:
                pending.append((time.monotonic() + delete_after, i))
            time.sleep(max(0.0, start + (i + 1) / rate - time.monotonic()))
        for when, k in pending:
            time.sleep(max(0.0, when - time.monotonic()))
            js.add(delete_event(BASE_TIME_US + 10 * posts + k, f"3k{k}"))
            deleted[bluesky_post_uri(DID, f"3k{k}")] = time.monotonic()
        deadline = time.monotonic() + 120
        while not set(deleted) <= set(gone) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(max(0.3, 2 * 0.2))  # a last status write with the deleter's gauges
        status = read_status(Path(tmp) / "state")
        stop.set()
        thread.join(timeout=60)
    ingest = [firehose.indexed_at[p] - t for p, t in posted.items() if p in firehose.indexed_at]
    lags = [gone[p] - t for p, t in deleted.items() if p in gone]
    return {
        "ingest": (percentile(ingest, 50), percentile(ingest, 99)),
        "deletion": (percentile(lags, 50), percentile(lags, 99)),
        "deleter": (status.get("deletion_lag_p50_s"), status.get("deletion_lag_p99_s")),
        "deleted": len(lags),
        "asked": len(deleted),
    }


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:,.0f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--delete-after", type=float, default=1.0)
    args = parser.parse_args()
    print(
        f"Deletions ({args.posts:,} Bluesky posts at {args.rate:g}/s, every fifth deleted {args.delete_after:g} s "
        "later; fake Jetstream → ingester → fake OpenSearch, no Firehose buffer)"
    )
    print(f"{'DELETION_INTERVAL_S':<21}{'measure':<44}{'p50':>10}{'p99':>10}")
    for interval in (5.0, 0.5):
        figures = one_run(args.posts, args.rate, args.delete_after, interval)
        rows = [
            ("ingest latency (Jetstream post → indexed)", figures["ingest"]),
            ("deletion lag (Jetstream delete → gone)", figures["deletion"]),
            ("deleter lag (tombstone → applied)", figures["deleter"]),
        ]
        for name, (p50, p99) in rows:
            print(f"{interval:<21g}{name:<44}{fmt(p50):>10}{fmt(p99):>10}")
        print(f"{'':<21}{'deleted / asked':<44}{figures['deleted']:>10,}{figures['asked']:>10,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
