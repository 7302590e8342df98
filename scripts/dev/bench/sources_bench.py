"""Sources under faults (``make bench``): recovery and duplicates per restart, this tree beside the previous
release; prints a table, figures are reported, never asserted.

Each case runs the daemon as a process (``python -m ingester run``) against the tests' local fakes: the Firehose
endpoint (``tests/support/firehose_endpoint.py``) and fake Jetstream instances (``tests/support/fake_jetstream.py``),
once with this tree and once with the previous release (``--previous``, a git revision: ``git archive`` into a
temporary folder, default 037ff23, the last commit before issue 19):

1. Bluesky, dead endpoint first: ``BLUESKY_ENDPOINTS`` = a dead instance (accepts, closes at once), a healthy one
   holding 500 matching posts: seconds until all 500 are delivered (or the limit), connections to each.
2. Bluesky, an endpoint closing every connection after 50 events: seconds until all 500 are delivered.
3. Bluesky, kill -9 three times while reading 3,000 live posts, then a run to the end: duplicates per restart.
4. Replay, kill -9 three times in a 3,000-post replay, then a run to the end: duplicates per restart, seconds
   from the last start to all delivered (recovery).
5. Replay read to its end while Firehose is down, SIGTERM, restart with Firehose back: duplicates.

    python scripts/dev/bench/sources_bench.py [--previous 037ff23] [--limit-s 45]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[3]
sys.path[:0] = [str(REPO_ROOT / "lambda_src"), str(REPO_ROOT)]

from tests.support.fake_jetstream import BASE_TIME_US, FakeJetstream, fake_jetstream, post_event  # noqa: E402
from tests.support.firehose_endpoint import FirehoseEndpoint  # noqa: E402
from tests.support.ingester import write_replay  # noqa: E402

STEP_US = 1_000


class Daemon:
    def __init__(self, tree: Path, firehose: FirehoseEndpoint, state: Path, env: dict[str, str]) -> None:
        environ = {
            **os.environ,
            "AWS_ENDPOINT_URL": firehose.url,
            "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "PYTHONPATH": f"{tree / 'lambda_src'}:{tree}",
            "DELIVERY_STREAM_NAME": "bench",
            "STATE_DIR": str(state),
            "LINGER_MS": "50",
            "SPOOL_AFTER_S": "0.2",
            "MAX_BACKOFF_S": "0.3",
            "SHUTDOWN_GRACE_S": "1",
            "STATUS_INTERVAL_S": "0.2",
            "LOG_LEVEL": "WARNING",
            **env,
        }
        argv = [sys.executable, "-m", "ingester", "run", "--env-file", "/nonexistent"]
        self.proc = subprocess.Popen(argv, env=environ, cwd=tree, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        self.proc.wait(60)


def wait(predicate: Callable[[], bool], limit_s: float) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        if predicate():
            return time.monotonic() - started
        time.sleep(0.05)
    return None


def seed_cursor(state: Path, time_us: int) -> None:
    state.mkdir(parents=True, exist_ok=True)
    (state / "bluesky-cursor.json").write_text(json.dumps({"time_us": time_us, "recent": []}))


def posts(fake: FakeJetstream, n: int, start: int = 0) -> list[str]:
    ids = []
    for i in range(start, start + n):
        fake.add(post_event(BASE_TIME_US + i * STEP_US, f"aws post {i}", rkey=f"3k{i:06d}"))
        ids.append(f"at://did:plc:abcdefghijklmnopqrstuvwx/app.bsky.feed.post/3k{i:06d}")
    return ids


def bluesky_env(*urls: str) -> dict[str, str]:
    return {"INGESTER_SOURCE": "bluesky", "TRACKED_TERMS": "aws", "BLUESKY_ENDPOINTS": ",".join(urls),
            "BLUESKY_RECONNECT_MAX_S": "2", "STALL_TIMEOUT_S": "2"}  # fmt: skip


def case_dead_endpoint(tree: Path, tmp: Path, limit_s: float) -> dict[str, Any]:
    dead, healthy = FakeJetstream(dead=True), FakeJetstream()
    ids = posts(healthy, 500)
    seed_cursor(tmp / "state", BASE_TIME_US)
    with FirehoseEndpoint() as firehose, fake_jetstream(dead), fake_jetstream(healthy):
        daemon = Daemon(tree, firehose, tmp / "state", bluesky_env(dead.url, healthy.url))
        took = wait(lambda: set(ids) <= set(firehose.tweet_ids()), limit_s)
        daemon.stop()
        got = len(set(firehose.tweet_ids()) & set(ids))
    return {"delivered": f"{got}/500", "seconds": took, "connections": f"{dead.connections()} dead, "
            f"{healthy.connections()} healthy"}  # fmt: skip


def case_close_every_50(tree: Path, tmp: Path, limit_s: float) -> dict[str, Any]:
    fake = FakeJetstream(close_every=50)
    ids = posts(fake, 500)
    seed_cursor(tmp / "state", BASE_TIME_US)
    with FirehoseEndpoint() as firehose, fake_jetstream(fake):
        daemon = Daemon(tree, firehose, tmp / "state", bluesky_env(fake.url))
        took = wait(lambda: set(ids) <= set(firehose.tweet_ids()), limit_s)
        daemon.stop()
        got = len(set(firehose.tweet_ids()) & set(ids))
    return {"delivered": f"{got}/500", "seconds": took, "connections": str(fake.connections())}


def at_least(firehose: FirehoseEndpoint, n: int) -> Callable[[], bool]:
    return lambda: len(firehose.tweet_ids()) >= n


def duplicates(ids: list[str]) -> int:
    return sum(n - 1 for n in Counter(ids).values() if n > 1)


def case_bluesky_kills(tree: Path, tmp: Path, limit_s: float) -> dict[str, Any]:
    fake = FakeJetstream()
    ids = posts(fake, 3000)
    seed_cursor(tmp / "state", BASE_TIME_US)
    with FirehoseEndpoint() as firehose, fake_jetstream(fake):
        for n in (500, 1200, 2000):
            daemon = Daemon(tree, firehose, tmp / "state", bluesky_env(fake.url))
            wait(at_least(firehose, n), limit_s)
            daemon.stop(signal.SIGKILL)
        started = time.monotonic()
        daemon = Daemon(tree, firehose, tmp / "state", bluesky_env(fake.url))
        wait(lambda: set(ids) <= set(firehose.tweet_ids()), limit_s)
        recovery = time.monotonic() - started
        daemon.stop()
        delivered = firehose.tweet_ids()
    return {"delivered": f"{len(set(delivered) & set(ids))}/3000", "seconds": recovery,
            "duplicates per restart": round(duplicates(delivered) / 3, 1)}  # fmt: skip


def case_replay_kills(tree: Path, tmp: Path, limit_s: float) -> dict[str, Any]:
    replay = write_replay(tmp / "posts.jsonl", 3000)
    env = {"INGESTER_SOURCE": "replay", "REPLAY_FILE": str(replay), "REPLAY_RATE": "1500"}
    with FirehoseEndpoint() as firehose:
        for n in (500, 1200, 2000):
            daemon = Daemon(tree, firehose, tmp / "state", env)
            wait(at_least(firehose, n), limit_s)
            daemon.stop(signal.SIGKILL)
        started = time.monotonic()
        daemon = Daemon(tree, firehose, tmp / "state", {**env, "REPLAY_RATE": "max"})
        daemon.proc.wait(limit_s)
        recovery = time.monotonic() - started
        delivered = firehose.tweet_ids()
    return {"delivered": f"{len(set(delivered))}/3000", "seconds": recovery,
            "duplicates per restart": round(duplicates(delivered) / 3, 1)}  # fmt: skip


def case_replay_end_while_down(tree: Path, tmp: Path, limit_s: float) -> dict[str, Any]:
    replay = write_replay(tmp / "posts.jsonl", 3000)
    env = {"INGESTER_SOURCE": "replay", "REPLAY_FILE": str(replay)}
    with FirehoseEndpoint() as firehose:
        firehose.up.clear()
        daemon = Daemon(tree, firehose, tmp / "state", env)
        wait(lambda: _status(tmp / "state").get("read") == 3000, limit_s)
        daemon.stop()
        firehose.up.set()
        started = time.monotonic()
        daemon = Daemon(tree, firehose, tmp / "state", env)
        daemon.proc.wait(limit_s)
        recovery = time.monotonic() - started
        delivered = firehose.tweet_ids()
    return {"delivered": f"{len(set(delivered))}/3000", "seconds": recovery,
            "duplicates per restart": duplicates(delivered)}  # fmt: skip


def _status(state: Path) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = json.loads((state / "status.json").read_text())
    except (OSError, ValueError):
        return {}
    return loaded


CASES: dict[str, Callable[[Path, Path, float], dict[str, Any]]] = {
    "bluesky: dead endpoint, then a healthy one": case_dead_endpoint,
    "bluesky: endpoint closes every 50 events": case_close_every_50,
    "bluesky: 3 x kill -9, then to the end": case_bluesky_kills,
    "replay: 3 x kill -9, then to the end": case_replay_kills,
    "replay: end of file while Firehose is down, SIGTERM, restart": case_replay_end_while_down,
}


@contextmanager
def previous_tree(revision: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="sources-bench-previous-") as tmp:
        archive = subprocess.run(["git", "archive", revision], cwd=REPO_ROOT, capture_output=True, check=True).stdout
        with tarfile.open(fileobj=__import__("io").BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        yield Path(tmp)


def fmt(value: Any) -> str:
    if value is None:
        return "not within the limit"
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--previous", default="037ff23", help="git revision of the previous release")
    parser.add_argument("--limit-s", type=float, default=45.0, help="longest wait per case")
    parser.add_argument("--only", default="", help="run only the cases whose name contains this text")
    args = parser.parse_args()
    rows: list[tuple[str, str, dict[str, Any]]] = []
    with ExitStack() as stack:
        trees = {
            "this tree": REPO_ROOT,
            f"previous ({args.previous})": stack.enter_context(previous_tree(args.previous)),
        }
        for name, case in CASES.items():
            if args.only not in name:
                continue
            for label, tree in trees.items():
                with tempfile.TemporaryDirectory(prefix="sources-bench-") as tmp:
                    result = case(tree, Path(tmp), args.limit_s)
                rows.append((name, label, result))
                print(f"{name} [{label}]: " + ", ".join(f"{k} {fmt(v)}" for k, v in result.items()), flush=True)
    print()
    print(
        "| case | release | delivered | seconds (to all delivered / recovery) | connections or duplicates per restart |"
    )
    print("|---|---|---|---|---|")
    for name, label, result in rows:
        extra = result.get("connections", result.get("duplicates per restart"))
        print(f"| {name} | {label} | {result['delivered']} | {fmt(result['seconds'])} | {fmt(extra)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
