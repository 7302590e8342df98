"""Evaluate the embedded sentiment backends side by side (``make eval``): prints one table; asserts nothing.

    python -m scripts.dev.sentiment.eval [--data /path/to/data] [--sdist build/sdist/vaderSentiment-3.3.2.tar.gz]

For every embedded backend (``vader``, ``embedded``), on each labelled set:

- **TSE test** (``DATA/tse/test.csv``, 3,534 tweets; never used for training or tuning). Without DATA the eval
  says so and goes on with the sample.
- **sample ratings**: the English source texts of scripts/demo/data/sample_tweets.jsonl with their mean human rating
  (vaderSentiment 3.3.2 sdist, fetched with pip when absent; ±0.5 is NEUTRAL). These are the texts VADER was
  developed on, so they flatter it.

accuracy, macro-recall, macro-F1, per-class recall, the predicted-label shares and the confusion matrix. Then,
per backend: tweets/s on one core through the handler (``process_event`` on batches of 500 TSE or sample texts,
CPU time of this process, best of 3, so other load on the machine does not count), and for the Lambda zip
(built fresh): its size and the cold start of a container (fresh interpreter, unpacked zip: import the handler
and build the backend, median of 5 runs, in wall-clock time and in CPU time: on a shared machine the first
includes waiting for a core). The header prints the machine's load average.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
import zipfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
sys.path[:0] = [str(REPO_ROOT / "lambda_src"), str(REPO_ROOT)]

from transform.handler import build_backend, process_event  # noqa: E402
from transform.sentiment import Deadline, Scored, ScoreRequest, SentimentBackend  # noqa: E402
from transform.settings import BackendName, Settings  # noqa: E402

from scripts.dev.bench.transform_bench import TIMED_IMPORT, make_event, subprocess_ms  # noqa: E402
from scripts.dev.generate_sample import DEFAULT_SDIST, download_sdist  # noqa: E402
from scripts.dev.sentiment.data import GOLD, SAMPLE_NEUTRAL_BAND, Example, read_sample_ratings, read_tse  # noqa: E402
from scripts.dev.sentiment.metrics import PREDICTED, Report, report  # noqa: E402
from scripts.packaging import build_lambda  # noqa: E402

EMBEDDED_BACKENDS: tuple[BackendName, ...] = ("vader", "embedded")
"""The backends that run inside the Lambda (comprehend is a remote service, measured by AWS, not here)."""
BATCH = 500
TIMED_CPU = TIMED_IMPORT.replace("perf_counter", "process_time")
"""The same measurement in CPU time of the fresh interpreter."""
TARGETS = (
    "targets: embedded ≥ vader + 4 points macro-recall on TSE test; on the sample at most 5 points below vader; "
    "≥ 5,000 tweets/s on one core; zip < 5 MB; cold start < 300 ms"
)


def predict(backend: SentimentBackend, examples: Sequence[Example]) -> list[str]:
    outcomes = backend.score([ScoreRequest(e.text, "en") for e in examples], Deadline(3600))
    return [o.label if isinstance(o, Scored) else "NONE" for o in outcomes]


def tweets_per_second(backend: SentimentBackend, texts: Sequence[str]) -> float:
    """Records/s of CPU time through ``process_event``, batches of BATCH, best of 3 passes."""
    events = [make_event([(t, "en") for t in texts[i : i + BATCH]]) for i in range(0, len(texts), BATCH)]
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        for event in events:
            process_event(event, None, backend=backend)
        best = min(best, time.process_time() - started)
    return len(texts) / best


def cold_starts() -> tuple[int, dict[BackendName, tuple[float, float]]]:
    """(zip bytes, backend -> (wall, CPU) ms to import the handler and build the backend from the unpacked zip)."""
    with tempfile.TemporaryDirectory() as tmp:
        zip_path = build_lambda.build(Path(tmp) / "transform.zip")
        task = Path(tmp) / "task"
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(task)
        stmt = (
            "from transform.handler import build_backend; from transform.settings import Settings; "
            "build_backend(Settings(sentiment_backend={name!r}))"
        )
        times = {
            name: (
                subprocess_ms(TIMED_IMPORT.format(stmt=stmt.format(name=name)), [str(task)]),
                subprocess_ms(TIMED_CPU.format(stmt=stmt.format(name=name)), [str(task)]),
            )
            for name in EMBEDDED_BACKENDS
        }
        return zip_path.stat().st_size, times


def format_report(name: str, r: Report, predicted: Sequence[str]) -> str:
    shares = Counter(predicted)
    recall = " ".join(f"{r.recall[g]:.3f}" for g in GOLD)
    share = " ".join(f"{shares[p] / r.n:5.1%}" for p in PREDICTED)
    return f"  {name:<9} | {r.accuracy:.3f} | {r.macro_recall:.3f} | {r.macro_f1:.3f} | {recall} | {share}"


def format_confusion(name: str, r: Report) -> list[str]:
    lines = [f"  {name}: rows gold, columns predicted " + " ".join(f"{p[:3]:>5}" for p in PREDICTED)]
    lines += [f"    {g:<8} " + " ".join(f"{r.confusion.get((g, p), 0):>5}" for p in PREDICTED) for g in GOLD]
    return lines


def evaluate(
    sets: dict[str, list[Example]], backends: dict[BackendName, SentimentBackend]
) -> dict[str, dict[str, Report]]:
    results: dict[str, dict[str, Report]] = {}
    for set_name, examples in sets.items():
        gold = [e.label for e in examples]
        truth = Counter(gold)
        print(f"\n{set_name}: {len(examples):,} texts; true shares "
              + ", ".join(f"{g} {truth[g] / len(gold):.1%}" for g in GOLD))  # fmt: skip
        print("  backend   | acc   | macro-R | macro-F1 | recall N/Neu/P    | predicted NEG  NEU  POS  MIX")
        confusions: list[str] = []
        results[set_name] = {}
        for name, backend in backends.items():
            predicted = predict(backend, examples)
            r = report(gold, predicted)
            results[set_name][name] = r
            print(format_report(name, r, predicted))
            confusions += format_confusion(name, r)
        print("\n".join(confusions))
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, help="folder with tse/test.csv (the TSE test split)")
    parser.add_argument("--sdist", type=Path, default=DEFAULT_SDIST, help="vaderSentiment-3.3.2.tar.gz")
    args = parser.parse_args(argv)
    logging.getLogger("transform").setLevel(logging.ERROR)  # the per-invocation INFO line is not the point here

    sets: dict[str, list[Example]] = {}
    test_csv = args.data / "tse" / "test.csv" if args.data else None
    if test_csv is not None and test_csv.is_file():
        sets["TSE test"] = read_tse(test_csv)
    else:
        where = f"{test_csv} not found" if test_csv else "no DATA given"
        print(f"NOTE: {where}: the TSE test split is skipped; only the bundled sample is evaluated. "
              "Pass DATA=/path/to/folder-with-tse/ (Kaggle 'Tweet Sentiment Extraction') to add it.")  # fmt: skip
    if not args.sdist.is_file():
        download_sdist(args.sdist.parent)
    sets["sample ratings"] = read_sample_ratings(args.sdist)

    backends = {name: build_backend(Settings(sentiment_backend=name)) for name in EMBEDDED_BACKENDS}
    print(f"Embedded sentiment backends, Python {sys.version.split()[0]}, load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores: "
          + ", ".join(f"{name} = {b.model_name}" for name, b in backends.items()))  # fmt: skip
    results = evaluate(sets, backends)
    print(f"  (sample ratings: the texts VADER was developed on, which flatters vader; |rating| ≤ "
          f"{SAMPLE_NEUTRAL_BAND} is NEUTRAL)")  # fmt: skip

    texts = [e.text for e in next(iter(sets.values()))]
    size, cold = cold_starts()
    print("\nspeed and size: backend | tweets/s, one core, through the handler | cold start: wall, CPU")
    for name, backend in backends.items():
        wall, cpu = cold[name]
        print(f"  {name:<9} | {tweets_per_second(backend, texts):>9,.0f} | {wall:.0f} ms, {cpu:.0f} ms")
    print(f"  Lambda zip: {size:,} bytes ({size / 1024 / 1024:.2f} MiB)")
    for set_name, by_backend in results.items():
        if {"vader", "embedded"} <= set(by_backend):
            delta = by_backend["embedded"].macro_recall - by_backend["vader"].macro_recall
            print(f"  embedded - vader, macro-recall on {set_name}: {delta * 100:+.1f} points")
    print(TARGETS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
