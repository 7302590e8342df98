"""Duplicates per restart: how many tweets the ingester delivers twice when it is restarted.

    python scripts/dev/bench/durability_bench.py [--tweets 8000] [--rate 2000] [--baseline /path/to/older/checkout]

Each scenario runs ``python -m ingester run`` (a replay at ``--rate`` tweets/s, as the service runs it) against
a local Firehose-compatible endpoint that keeps every record, interrupts it once, starts it again on the same
STATE_DIR, and counts what arrived:

* SIGTERM restart: SIGTERM a third of the way through, restart (the replay resumes from its saved offset);
* kill -9 restart: SIGKILL a third of the way through, restart (the WAL's unsettled lines join the spool);
* outage restart: Firehose refuses every call from a third of the way on, SIGTERM while it is down (the
  backlog is in the spool), Firehose back, restart.

A row is ``delivered`` (records that arrived), ``unique`` (distinct tweet ids: must equal ``--tweets``: nothing
lost) and ``duplicates`` (delivered - unique). The same scenarios run side by side on the baseline:
by default the ingester of ``scripts.dev.bench.baseline.BASELINE_COMMIT`` (before issue 10), or ``--baseline DIR``.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from scripts.dev.bench.baseline import BASELINE_COMMIT, extract_baseline  # noqa: E402
from tests.support.firehose_endpoint import FirehoseEndpoint  # noqa: E402
from tests.support.ingester import write_replay  # noqa: E402


def start(code: Path, state: Path, replay: Path, endpoint: str, rate: float) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "PYTHONPATH": f"{code / 'lambda_src'}:{code}",
        "SPOOL_AFTER_S": "0.5",
        "MAX_BACKOFF_S": "0.5",
        "LOG_LEVEL": "WARNING",
    }
    argv = [sys.executable, "-m", "ingester", "run", "--source", "replay", "--replay-file", str(replay)]
    argv += ["--delivery-stream", "tweets", "--state-dir", str(state), "--env-file", "/nonexistent"]
    argv += ["--rate", str(rate)]
    return subprocess.Popen(argv, env=env, cwd=code, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_until(predicate: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("scenario did not reach its interruption point")
        time.sleep(0.01)


def scenario(code: Path, work: Path, name: str, tweets: int, rate: float) -> dict[str, int]:
    state = work / f"state-{name}"
    replay = write_replay(work / f"{name}.jsonl", tweets)
    with FirehoseEndpoint() as firehose:
        first = start(code, state, replay, firehose.url, rate)
        wait_until(lambda: len(firehose.records) >= tweets // 3, 60)
        if name == "kill -9":
            first.send_signal(signal.SIGKILL)
        elif name == "outage":
            firehose.up.clear()
            time.sleep(1.5)  # a backlog builds up in the spool
            first.send_signal(signal.SIGTERM)
        else:
            first.send_signal(signal.SIGTERM)
        first.wait(60)
        firehose.up.set()
        second = start(code, state, replay, firehose.url, rate)
        if second.wait(120) != 0:
            raise RuntimeError(f"{name}: the restarted ingester exited {second.returncode}")
        ids = firehose.tweet_ids()
    return {"delivered": len(ids), "unique": len(set(ids)), "duplicates": len(ids) - len(set(ids))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tweets", type=int, default=8_000)
    parser.add_argument("--rate", type=float, default=2_000, help="replay rate, tweets/s")
    parser.add_argument(
        "--baseline",
        type=Path,
        help=f"another checkout to measure side by side (default: the ingester of commit {BASELINE_COMMIT[:7]}, "
        "before settle marks, delivery marks and the replay offset, taken from git)",
    )
    args = parser.parse_args()
    print(f"Duplicates per restart ({args.tweets:,} tweets replayed at {args.rate:,.0f}/s, interrupted once)")
    failures = 0
    with tempfile.TemporaryDirectory(prefix="durability-bench-") as tmp:
        versions = {"this checkout": ROOT}
        baseline = args.baseline.resolve() if args.baseline else extract_baseline(Path(tmp))
        if baseline is None:
            print("baseline: not run (no git history to take the old ingester from)")
        else:
            versions[f"baseline {BASELINE_COMMIT[:7]}" if not args.baseline else "baseline"] = baseline
        print(f"{'scenario':<18}{'version':<18}{'delivered':>10}{'unique':>10}{'duplicates':>12}  lost")
        for name in ("SIGTERM", "kill -9", "outage"):
            for label, code in versions.items():
                work = Path(tmp) / f"{label.replace(' ', '-')}"
                work.mkdir(exist_ok=True)
                row = scenario(code, work, name, args.tweets, args.rate)
                lost = args.tweets - row["unique"]
                failures += lost > 0 and label == "this checkout"
                print(
                    f"{name + ' restart':<18}{label:<18}{row['delivered']:>10,}{row['unique']:>10,}"
                    f"{row['duplicates']:>12,}  {lost}"
                )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
