"""Bluesky source benchmark (``make bench``): prints a table; figures are reported, never asserted.

1. Filtering, in process, one thread: Jetstream frames (JSON text as Jetstream sends it) through
   ``BlueskySource.handle_frame`` (JSON decode, event checks, the TRACKED_TERMS match), with ``--match-percent``
   of the posts matching one of nine tracked terms: messages/s filtered.
2. Envelopes, in process, one thread: every post matches; each envelope is also encoded to the record bytes
   (what the pipeline does first): envelopes/s produced.
3. Over a WebSocket on 127.0.0.1: the tests' fake Jetstream (websockets' server, in a thread of the same
   process, so it competes for the same interpreter) sends the frames of 1 and the real client reads them:
   messages/s read and filtered end to end on the socket.

    python scripts/dev/bench/bluesky_bench.py [--messages 100000] [--match-percent 2]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[3]
sys.path[:0] = [str(REPO_ROOT / "lambda_src"), str(REPO_ROOT)]

from ingester.config import Settings  # noqa: E402
from ingester.envelope import encode  # noqa: E402
from ingester.sources.bluesky import BlueskySource  # noqa: E402
from ingester.stats import Stats  # noqa: E402
from tests.support.fake_jetstream import BASE_TIME_US, FakeJetstream, fake_jetstream, post_event  # noqa: E402

TERMS = ("aws", "#serverless", "amazon web services", "lambda", "kubernetes", "#devops", "terraform", "s3", "ec2")
COMMON = (
    "the a of and to in is it that this was for on with as have be at not are but my just so like what good today "
    "people time new one all about more love really know think going great would some when there out your day"
)
WORDS = COMMON.split()


class CountingSink:
    """Encodes each envelope to its record bytes, as the pipeline does, and counts."""

    def __init__(self) -> None:
        self.envelopes = 0
        self.bytes = 0
        self.dropped = 0

    @property
    def wants_more(self) -> bool:
        return True

    def accept(self, envelope: dict[str, Any]) -> bool:
        self.envelopes += 1
        self.bytes += len(encode(envelope))
        return True

    def drop(self, reason: str) -> None:
        self.dropped += 1

    def reset_dedupe(self) -> None:
        pass


def frames(n: int, match_percent: float, rng: random.Random) -> list[str]:
    out = []
    for i in range(n):
        words = [rng.choice(WORDS) for _ in range(rng.randint(8, 40))]
        if rng.random() * 100 < match_percent:
            words.insert(rng.randrange(len(words) + 1), rng.choice(TERMS))
        out.append(json.dumps(post_event(BASE_TIME_US + i, " ".join(words), rkey=f"3k{i:08d}")))
    return out


def source(state: Path, url: str = "ws://127.0.0.1:9/subscribe") -> BlueskySource:
    settings = Settings(source="bluesky", tracked_terms=TERMS, bluesky_endpoints=(url,), state_dir=state)
    return BlueskySource(settings, Stats())


def in_process(state: Path, batch: list[str]) -> tuple[float, CountingSink]:
    src, sink, stop = source(state), CountingSink(), threading.Event()
    started = time.perf_counter()
    for frame in batch:
        src.handle_frame(frame, sink, stop)
    return time.perf_counter() - started, sink


def over_websocket(state: Path, batch: list[str]) -> tuple[float, CountingSink]:
    fake = FakeJetstream()
    with fake_jetstream(fake):
        src, sink, stop = source(state, fake.url), CountingSink(), threading.Event()
        reader = threading.Thread(target=src.run, args=(sink, stop), daemon=True)
        handled = src.stats
        reader.start()
        while not fake.connections():
            time.sleep(0.01)
        started = time.perf_counter()
        for frame in batch:
            fake.add(frame, time_us=BASE_TIME_US)
        while handled.snapshot()["filtered_out"] + sink.envelopes < len(batch):
            time.sleep(0.005)
        elapsed = time.perf_counter() - started
        stop.set()
        reader.join(timeout=10)
    return elapsed, sink


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--match-percent", type=float, default=2.0)
    args = parser.parse_args()
    rng = random.Random(14)
    mixed = frames(args.messages, args.match_percent, rng)
    matching = frames(args.messages // 4, 100.0, rng)
    size = sum(len(f) for f in mixed) / len(mixed)
    print(f"Bluesky source ({args.messages:,} Jetstream post frames, {size:.0f} bytes each, {len(TERMS)} terms)")
    print(f"{'case':<44}{'messages/s':>12}{'envelopes/s':>13}{'envelopes':>11}")
    with tempfile.TemporaryDirectory() as tmp:
        rows = [
            (f"filter, in process ({args.match_percent:g} % match)", mixed, in_process),
            ("envelopes, in process (100 % match)", matching, in_process),
            (f"WebSocket 127.0.0.1 ({args.match_percent:g} % match)", mixed, over_websocket),
        ]
        for n, (name, batch, measure) in enumerate(rows):
            state = Path(tmp) / str(n)
            state.mkdir()
            elapsed, sink = measure(state, batch)
            print(f"{name:<44}{len(batch) / elapsed:>12,.0f}{sink.envelopes / elapsed:>13,.0f}{sink.envelopes:>11,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
