"""Local end-to-end benchmark (``make bench``): the demo pipeline at full speed, beside a naive baseline.

Both rows run the same code in the same process on the bundled sample: the ingester's replay source and
Firehose writer (``ingester.app.run``) → LocalFirehose → ``transform.handler.process_event`` (VADER) →
SQLite. They differ only in batching:

- batched: the demo's defaults (PutRecordBatch up to 500 records, processor buffer 1 MiB / 1 s, one SQLite
  transaction per processor batch);
- naive: what the 2021 tutorial did, one record per put, one transform invocation and one SQLite commit per
  tweet;
- deployed defaults at a sparse load: the ingester's own ``LINGER_MS`` default (not the demo's 250 ms) and
  the realtime preset's processor buffer (0 s on AWS; 0.01 s here, LocalFirehose's floor), paced at
  ``--sparse-rate`` tweets/s. At one tweet every 2 s (longer than the linger) each tweet travels alone, as at
  the default load of about 7 posts a minute, so this is the local part of tweet -> searchable (ingester read
  -> stored) at that load without waiting ten minutes for the samples. What AWS adds (Firehose's zero-buffering
  delivery, the Lambda's cold and warm runs, the bulk request, the index refresh) is not measured here.

Throughput is stored tweets / wall time from start to the last commit. Latency is received_at (stamped by
the ingester when it reads the tweet) → committed in SQLite, per tweet. Figures are printed, never asserted.

    python scripts/dev/bench/demo_bench.py [--passes 5] [--baseline-tweets 3000]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[3]
sys.path[:0] = [str(REPO_ROOT / "lambda_src"), str(REPO_ROOT)]

from ingester.config import Settings, default_text  # noqa: E402
from scripts.demo.delivery import DemoStats, StoreTarget  # noqa: E402
from scripts.demo.failed import FailedWriter  # noqa: E402
from scripts.demo.firehose import LocalFirehose  # noqa: E402
from scripts.demo.store import SQLiteStore  # noqa: E402
from scripts.demo.view import fmt_ms, percentile  # noqa: E402
from scripts.demo.wiring import build_transform  # noqa: E402

SAMPLE = REPO_ROOT / "scripts" / "demo" / "data" / "sample_tweets.jsonl"


class NaiveFirehose(LocalFirehose):
    """Delivers every put at once: one transform invocation (and one SQLite commit) per call."""

    def put_record_batch(self, *, DeliveryStreamName: str, Records: Any) -> dict[str, Any]:
        response = super().put_record_batch(DeliveryStreamName=DeliveryStreamName, Records=Records)
        self.flush()
        return response


@dataclass
class Row:
    name: str
    tweets: int
    seconds: float
    latencies_ms: list[float]
    invocations: int
    put_calls: int
    failed: int

    @property
    def rate(self) -> float:
        return self.tweets / self.seconds if self.seconds else 0.0


def run_pipeline(
    name: str,
    work: Path,
    *,
    naive: bool,
    limit: int,
    loop: bool,
    rate: float | None = None,
    linger_ms: int | None = None,
    buffer_interval_s: float = 1.0,
) -> Row:
    from ingester.app import run as run_ingester
    from ingester.config import Settings

    handler = build_transform(os.environ)
    store = SQLiteStore(work / "tweets.db")
    stats = DemoStats()
    failed = FailedWriter(work / "failed")
    target = StoreTarget(store, failed, stats, lambda_arn="arn:aws:lambda:us-east-1:123456789012:function:bench")
    cls = NaiveFirehose if naive else LocalFirehose
    firehose = cls(handler, target, stream_name="bench", buffer_bytes=1024 * 1024, buffer_interval_s=buffer_interval_s)
    settings = Settings(
        source="replay",
        replay_file=SAMPLE,
        delivery_stream="bench",
        state_dir=work / "state",
        rate=rate,
        loop=loop,
        limit=limit,
        max_batch_records=1 if naive else 500,
        linger_ms=linger_ms if linger_ms is not None else 0 if naive else 250,  # 250: the demo's setting
        stats_interval_s=3600.0,
        status_interval_s=3600.0,
    )
    started = time.perf_counter()
    firehose.start()
    code = run_ingester(settings, firehose_client=firehose)
    firehose.close()
    seconds = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"{name}: the ingester exited with {code}")
    snap = stats.snapshot(full=True)
    store.close()
    return Row(
        name=name,
        tweets=snap.stored,
        seconds=seconds,
        latencies_ms=snap.latencies_ms,
        invocations=firehose.invocations,
        put_calls=firehose.put_calls,
        failed=snap.processing_failed + snap.store_rejected,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--passes", type=int, default=5, help="replay the 3,000-tweet sample this many times")
    parser.add_argument("--baseline-tweets", type=int, default=3000, help="tweets for the naive row")
    parser.add_argument("--paced-rate", type=float, default=1000.0, help="tweets/s for the paced row (3 s of it)")
    parser.add_argument("--sparse-rate", type=float, default=0.5, help="tweets/s for the deployed-defaults row")
    parser.add_argument("--sparse-tweets", type=int, default=30, help="tweets for the deployed-defaults row")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    sample_lines = sum(1 for line in SAMPLE.open(encoding="utf-8") if line.strip())
    batched_tweets = sample_lines * args.passes
    sample = SAMPLE.relative_to(REPO_ROOT)
    print(f"Local end-to-end benchmark: {sample} replayed at full speed (python {sys.version.split()[0]})")
    print("ingester replay → PutRecordBatch → LocalFirehose → transform (VADER) → SQLite, one process\n")
    rows = []
    with tempfile.TemporaryDirectory(prefix="demo-bench-") as tmp:
        # Warm-up: VADER's lexicon load and imports are paid once, outside the measurements.
        run_pipeline("warm-up", Path(tmp) / "warm", naive=False, limit=50, loop=False)
        rows.append(
            run_pipeline(
                "batched (500-record puts, 1 MiB / 1 s buffer, 1 commit per batch)",
                Path(tmp) / "batched",
                naive=False,
                limit=batched_tweets,
                loop=args.passes > 1,
            )
        )
        rows.append(
            run_pipeline(
                f"batched, paced at {args.paced_rate:,.0f} tweets/s (latency without a backlog)",
                Path(tmp) / "paced",
                naive=False,
                limit=min(sample_lines, int(args.paced_rate * 3)),
                loop=False,
                rate=args.paced_rate,
            )
        )
        default_linger_ms = int(default_text(Settings, "linger_ms"))  # the ingester's own default, as deployed
        rows.append(
            run_pipeline(
                f"deployed defaults, {args.sparse_rate:g} tweets/s (linger {default_linger_ms} ms, buffer 0.01 s)",
                Path(tmp) / "sparse",
                naive=False,
                limit=args.sparse_tweets,
                loop=args.sparse_tweets > sample_lines,
                rate=args.sparse_rate,
                linger_ms=default_linger_ms,
                buffer_interval_s=0.01,
            )
        )
        rows.append(
            run_pipeline(
                "naive (1 put, 1 invocation, 1 commit per tweet)",
                Path(tmp) / "naive",
                naive=True,
                limit=args.baseline_tweets,
                loop=args.baseline_tweets > sample_lines,
            )
        )
    cells = [("path", 68), ("tweets", 7), ("s", 6), ("tweets/s", 9), ("p50", 9), ("p99", 9), ("invocations", 11),
             ("puts", 6), ("failed", 6)]  # fmt: skip
    header = "| " + " | ".join(name.ljust(w) if name == "path" else name.rjust(w) for name, w in cells) + " |"
    print(header)
    print("|" + "|".join("-" * (len(cell)) for cell in header.split("|")[1:-1]) + "|")
    for row in rows:
        p50 = fmt_ms(percentile(row.latencies_ms, 50))
        p99 = fmt_ms(percentile(row.latencies_ms, 99))
        print(
            f"| {row.name:<68} | {row.tweets:>7,} | {row.seconds:>6.2f} | {row.rate:>9,.0f} | {p50:>9} | {p99:>9} "
            f"| {row.invocations:>11,} | {row.put_calls:>6,} | {row.failed:>6} |"
        )
    batched, _paced, _sparse, naive = rows
    fewer = (naive.invocations / naive.tweets) / (batched.invocations / batched.tweets)
    print(
        f"\nbatched / naive: {batched.rate / naive.rate:.1f}x the throughput, {fewer:,.0f}x fewer invocations per tweet"
    )
    print(
        "Full speed: the replay reads ahead of the pipeline, so latency there includes waiting behind earlier tweets.\n"
        "Paced: latency is the buffer hints at work (ingester linger 250 ms, Firehose interval 1 s or 1 MiB).\n"
        "Deployed defaults: the local part of tweet -> searchable at a sparse load (ingester read -> stored); on AWS\n"
        "Firehose delivery, the Lambda, the bulk request and the index refresh (refresh_interval 5 s) come on top."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
