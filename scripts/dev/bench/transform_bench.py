"""Transform Lambda benchmark (``make bench``): prints a table; targets are reported, never asserted.

1. VADER path, end to end (base64 + JSON decode, document, score, encode), single process, batches of
   500 and 3,000 records with unique texts (no dedupe help). Target ≥ 5,000 records/s.
2. Comprehend path against a local stub client with a fixed latency per call (default 40 ms), 3,000
   records, beside the naive baseline of the 2021 tutorial (one DetectSentiment per record, sequential)
   measured in the same run on a subset and extrapolated linearly (its cost is latency × records).
   Targets: ≤ 1 call per 25 records, ≥ 50× faster than the baseline.
3. Cold start: zip size, import time of transform.handler from the unpacked zip in a fresh interpreter,
   VADER model load, and boto3 Comprehend client creation (paid on a Comprehend container's first call).
4. Embedded backend (the default, eight languages): a mixed-language stream end to end (synthetic posts in
   en ar de es fr hi it pt plus ja and und, batch 500, CPU time: the machine is shared), the backend's build
   from the zip (English model; CPU time), the first post in the slowest-loading other language, and the
   compressed size of the multilingual weights in the zip. Targets ≥ 3,000 records/s, < 300 ms, < 10 MB.

    python scripts/dev/bench/transform_bench.py [--latency-ms 40] [--baseline-records 300]
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[3]
sys.path[:0] = [str(REPO_ROOT / "lambda_src"), str(REPO_ROOT)]

from transform.handler import process_event  # noqa: E402
from transform.sentiment.comprehend import ComprehendBackend  # noqa: E402
from transform.sentiment.vader import VaderBackend  # noqa: E402

from scripts.packaging import build_lambda  # noqa: E402

WORDS = [
    "the", "a", "new", "update", "release", "console", "service", "cloud", "team", "today", "we", "our", "launch",
    "price", "support", "api", "region", "data", "stream", "model", "latency", "cost", "users", "customers",
    "outage", "fix", "bug", "feature", "deploy", "build", "night", "week", "morning",
]  # fmt: skip
FEELINGS = [
    "love", "great", "awesome", "amazing", "happy", "thanks", "excellent", "fast", "nice", "good", "hate",
    "terrible", "awful", "slow", "broken", "bad", "worst", "angry", "disappointed", "sad", "annoying", "fine",
    "okay", "meh",
]  # fmt: skip
LANGS = ["en"] * 16 + ["es", "es", "fr", "und"]


def make_texts(n: int, seed: int, duplicate_share: float = 0.0) -> list[tuple[str, str]]:
    """``n`` (text, lang) pairs that look like tweets; all unique unless ``duplicate_share`` > 0 (retweets)."""
    rng = random.Random(seed)
    out: list[tuple[str, str]] = []
    for i in range(n):
        if out and rng.random() < duplicate_share:
            out.append(rng.choice(out))
            continue
        words = [rng.choice(WORDS) for _ in range(rng.randint(6, 22))]
        for _ in range(rng.randint(0, 3)):
            words.insert(rng.randrange(len(words) + 1), rng.choice(FEELINGS))
        if rng.random() < 0.4:
            words.insert(0, f"@user{rng.randint(1, 999)}")
        if rng.random() < 0.3:
            words.append(f"#{rng.choice(WORDS)}")
        if rng.random() < 0.3:
            words.append(f"https://t.co/{rng.randint(10**9, 10**10)}")
        out.append((" ".join(words) + f" {i}", rng.choice(LANGS)))
    return out


def make_event(texts: list[tuple[str, str]]) -> dict[str, Any]:
    records = []
    for i, (text, lang) in enumerate(texts):
        envelope = {
            "v": 1, "source": "bench", "received_at": "2026-11-26T10:00:00.123Z",
            "matching_rules": [{"id": "1", "tag": "aws"}],
            "tweet": {"id": str(1861000000000000000 + i), "text": text, "lang": lang,
                      "created_at": "2026-11-26T09:59:58.000Z", "author_id": "42",
                      "public_metrics": {"retweet_count": 1, "reply_count": 0, "like_count": 5, "quote_count": 0}},
            "author": {"id": "42", "username": "bench", "name": "Bench", "followers_count": 10},
        }  # fmt: skip
        data = base64.b64encode(json.dumps(envelope, separators=(",", ":")).encode()).decode()
        records.append({"recordId": f"r{i}", "approximateArrivalTimestamp": 0, "data": data})
    return {"invocationId": "bench", "records": records}


class LatencyStub:
    """Comprehend stand-in: every call (batch or single) waits ``latency`` seconds, then answers NEUTRAL."""

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.calls = 0
        self._lock = threading.Lock()

    def _count(self) -> None:
        with self._lock:
            self.calls += 1
        time.sleep(self.latency)

    def batch_detect_sentiment(self, *, TextList: list[str], LanguageCode: str) -> dict[str, Any]:
        self._count()
        score = {"Positive": 0.1, "Negative": 0.1, "Neutral": 0.7, "Mixed": 0.1}
        return {
            "ResultList": [{"Index": i, "Sentiment": "NEUTRAL", "SentimentScore": score} for i in range(len(TextList))],
            "ErrorList": [],
        }

    def detect_sentiment(self, *, Text: str, LanguageCode: str) -> dict[str, Any]:
        self._count()
        return {"Sentiment": "NEUTRAL", "SentimentScore": {"Positive": 0.1, "Negative": 0.1, "Neutral": 0.7}}


def naive_baseline(event: dict[str, Any], client: LatencyStub) -> list[dict[str, Any]]:
    """The tutorial's Lambda: one DetectSentiment per record, sequentially, text only, no error handling."""
    out = []
    for record in event["records"]:
        envelope = json.loads(base64.b64decode(record["data"]))
        text = envelope["tweet"]["text"]
        result = client.detect_sentiment(Text=text, LanguageCode="en")
        payload = json.dumps({"text": text, "sentiment": result["Sentiment"]}).encode()
        out.append({"recordId": record["recordId"], "result": "Ok", "data": base64.b64encode(payload).decode()})
    return out


def best_of(runs: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def subprocess_ms(code: str, path: list[str], *, site: bool = False, runs: int = 5) -> float:
    """Median time (ms) that ``code`` reports for itself in a fresh ``python -I`` (and -S unless ``site``)."""
    values = []
    for _ in range(runs):
        proc = subprocess.run(
            [sys.executable, "-I", *([] if site else ["-S"]), "-c", code, *path],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
            env={"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"},
        )
        values.append(float(proc.stdout.strip().splitlines()[-1]))
    return statistics.median(values)


TIMED_IMPORT = (
    "import sys, time; sys.path[:0] = sys.argv[1:]; t = time.perf_counter(); {stmt}; "
    "print((time.perf_counter() - t) * 1000)"
)


Row = tuple[str, str, str, str]


def row(name: str, value: str, target: str = "", verdict: bool | None = None) -> Row:
    mark = "" if verdict is None else ("PASS" if verdict else "MISS")
    return (name, value, target, mark)


def bench_vader() -> list[Row]:
    rows = []
    vader = VaderBackend()
    for size in (500, 3000):
        event = make_event(make_texts(size, seed=size))
        process_event(event, None, backend=vader)  # warm-up
        seconds = best_of(5, partial(process_event, event, None, backend=vader))
        rate = size / seconds
        rows.append(row(f"VADER end to end, batch {size:,} (best of 5)", f"{rate:,.0f} records/s", "≥ 5,000/s",
                        rate >= 5000))  # fmt: skip
    return rows


def bench_comprehend(latency: float, baseline_records: int, n: int = 3000) -> list[Row]:
    rows = []
    event = make_event(make_texts(n, seed=7))
    stub = LatencyStub(latency)
    naive_event = {"records": event["records"][:baseline_records]}
    naive_s = best_of(1, lambda: naive_baseline(naive_event, stub)) * n / len(naive_event["records"])
    rows.append(row(f"naive baseline: DetectSentiment per record, sequential ({n:,}, extrapolated from "
                    f"{len(naive_event['records'])})", f"{naive_s:,.1f} s, {n:,} calls"))  # fmt: skip
    scored = sum(1 for r in event["records"] if json.loads(base64.b64decode(r["data"]))["tweet"]["lang"] != "und")
    for concurrency in (1, 4, 8):
        stub = LatencyStub(latency)
        backend = ComprehendBackend(stub, concurrency=concurrency)
        seconds = best_of(1, partial(process_event, event, None, backend=backend))
        default = concurrency == 4
        target = "≤ 1 call/25, ≥ 50×" if default else ""
        verdict = stub.calls * 25 <= n and naive_s / seconds >= 50 if default else None
        name = f"batched Comprehend, {n:,} records, concurrency {concurrency}{' (default)' if default else ''}"
        rows.append(row(name,
                        f"{seconds:,.2f} s, {stub.calls} calls ({scored / stub.calls:.1f} scored records/call)",
                        target, verdict))  # fmt: skip
        rows.append(row(f"  speed-up vs naive, concurrency {concurrency}", f"{naive_s / seconds:,.0f}×"))
    dup_event = make_event(make_texts(n, seed=8, duplicate_share=0.3))
    stub = LatencyStub(latency)
    dup_s = best_of(1, lambda: process_event(dup_event, None, backend=ComprehendBackend(stub)))
    rows.append(row(f"batched Comprehend, {n:,} records with 30% repeated texts (retweets), concurrency 4",
                    f"{dup_s:,.2f} s, {stub.calls} calls"))  # fmt: skip
    return rows


MIXED_WORDS = {
    "en": ["love", "great", "awful", "the", "new", "update", "today", "thanks", "worst", "team"],
    "ar": ["الحمد", "لله", "جميل", "الله", "اليوم", "شكرا", "سيء", "مبروك", "حرام", "الفريق"],
    "de": ["ich", "freue", "mich", "danke", "heute", "schlecht", "toll", "nicht", "leider", "super"],
    "es": ["me", "encanta", "gracias", "hoy", "qué", "asco", "odio", "feliz", "mal", "bueno"],
    "fr": ["j'adore", "merci", "aujourd'hui", "nul", "trop", "bien", "déteste", "pas", "super", "journée"],
    "hi": ["bahut", "accha", "yaar", "kya", "baat", "hai", "bura", "bhai", "nahi", "mast"],
    "it": ["bellissimo", "grazie", "oggi", "che", "schifo", "brutto", "bello", "non", "vergogna", "felice"],
    "pt": ["amei", "obrigado", "hoje", "que", "lindo", "ódio", "péssimo", "muito", "não", "feliz"],
    "ja": ["最高", "今日", "ありがとう", "最悪", "楽しい"],
    "und": ["😂", "🔥", "https://t.co/x", "#aws", "👍"],
}
"""A few common and polar words per language: synthetic posts for the mixed-stream row (no data set needed)."""


def mixed_texts(n: int, seed: int) -> list[tuple[str, str]]:
    """``n`` (text, lang) pairs, the eight embedded languages in equal shares plus 5 % ja and 5 % und."""
    rng = random.Random(seed)
    langs = [*[lang for lang in MIXED_WORDS if lang not in ("ja", "und")] * 9, "ja", "und", "ja", "und"]
    out = []
    for i in range(n):
        lang = rng.choice(langs)
        words = [rng.choice(MIXED_WORDS[lang]) for _ in range(rng.randint(6, 22))]
        if rng.random() < 0.4:
            words.insert(0, f"@user{rng.randint(1, 999)}")
        out.append((" ".join(words) + f" {i}", lang))
    return out


def bench_embedded() -> list[Row]:
    from transform.sentiment.embedded import EmbeddedBackend

    backend = EmbeddedBackend()
    event = make_event(mixed_texts(500, seed=23))
    process_event(event, None, backend=backend)  # warm-up: every language's model loaded
    best = float("inf")
    for _ in range(5):
        started = time.process_time()
        process_event(event, None, backend=backend)
        best = min(best, time.process_time() - started)
    rate = 500 / best
    with tempfile.TemporaryDirectory() as tmp:
        zip_path = build_lambda.build(Path(tmp) / "transform.zip")
        with zipfile.ZipFile(zip_path) as archive:
            weights = sum(i.compress_size for i in archive.infolist() if "/multilingual_weights/" in i.filename)
            archive.extractall(Path(tmp) / "task")
        task = [str(Path(tmp) / "task")]
        cpu = TIMED_IMPORT.replace("perf_counter", "process_time")
        build_ms = subprocess_ms(
            cpu.format(stmt="from transform.sentiment.embedded import EmbeddedBackend; EmbeddedBackend()"), task
        )
        setup = "from transform.sentiment.multilingual import LanguageModels; m = LanguageModels(); "
        first_post = {
            lang: subprocess_ms(
                "import sys, time; sys.path[:0] = sys.argv[1:]; " + setup
                + f"t = time.process_time(); m.get({lang!r}); print((time.process_time() - t) * 1000)",
                task,
            )
            for lang in ("ar", "fr", "it")  # the three largest files
        }  # fmt: skip
    slowest = max(first_post, key=lambda lang: first_post[lang])
    return [
        row("embedded, mixed 8-language stream end to end, batch 500 (CPU time, best of 5)",
            f"{rate:,.0f} records/s", "≥ 3,000/s", rate >= 3000),
        row("cold start: embedded backend build from the zip (English model; CPU, median of 5)",
            f"{build_ms:.0f} ms", "< 300 ms", build_ms < 300),
        row(f"first post in a language: model load ({slowest}, the slowest; CPU, median of 5)",
            f"{first_post[slowest]:.0f} ms"),
        row("multilingual weights in the zip (7 languages, compressed)", f"{weights:,} bytes", "< 10 MB",
            weights < 10_000_000),
    ]  # fmt: skip


def bench_cold_start() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        zip_path = build_lambda.build(Path(tmp) / "transform.zip")
        size = zip_path.stat().st_size
        task = Path(tmp) / "task"
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(task)
        import_ms = subprocess_ms(TIMED_IMPORT.format(stmt="import transform.handler"), [str(task)])
        vader_ms = subprocess_ms(
            TIMED_IMPORT.format(stmt="from transform.sentiment.vader import VaderBackend; VaderBackend()"),
            [str(task)],
        )
    boto_ms = subprocess_ms(
        TIMED_IMPORT.format(stmt="from transform.sentiment.comprehend import default_client; default_client(4)"),
        [str(REPO_ROOT / "lambda_src")],
        site=True,  # boto3 comes from the environment, as the Lambda runtime provides it
    )
    return [
        row("zip size (dist/transform.zip)", f"{size:,} bytes ({size / 1024:.0f} KiB)", "small, no boto3",
            size < 1024 * 1024),
        row("cold start: import transform.handler (from the zip, median of 5)", f"{import_ms:.0f} ms"),
        row("cold start: VADER model load (first vader invocation)", f"{vader_ms:.0f} ms"),
        row("cold start: boto3 Comprehend client (first comprehend invocation)", f"{boto_ms:.0f} ms"),
    ]  # fmt: skip


def print_table(rows: list[Row], latency_ms: float) -> None:
    header: Row = ("measure", "result", "target", "")
    widths = [max(len(r[i]) for r in [*rows, header]) for i in range(4)]
    print(f"\nTransform Lambda benchmark (stub latency {latency_ms:.0f} ms per call, Python "
          f"{sys.version.split()[0]}, one process)")  # fmt: skip
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for r in rows:
        print(" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
    print(
        "\nNotes: the naive baseline runs on a subset and is extrapolated linearly (its time is latency × records). "
        "The stub answers a 25-text batch as fast as a single text; real BatchDetectSentiment calls take longer than "
        "single ones, so real speed-ups are smaller than shown. 'und' records are skipped without a call."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Transform Lambda benchmark")
    parser.add_argument("--latency-ms", type=float, default=40.0, help="stub latency per API call")
    parser.add_argument("--baseline-records", type=int, default=300, help="records the naive baseline really runs")
    args = parser.parse_args(argv)
    logging.getLogger("transform").setLevel(logging.ERROR)  # the per-invocation INFO line is not the point here
    rows = bench_vader()
    rows += bench_comprehend(args.latency_ms / 1000, args.baseline_records)
    rows += bench_cold_start()
    rows += bench_embedded()
    print_table(rows, args.latency_ms)
    return 0


if __name__ == "__main__":
    sys.exit(main())
