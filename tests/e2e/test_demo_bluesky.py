"""``make demo ARGS="--source bluesky"`` against a local fake Jetstream (BLUESKY_ENDPOINTS overrides the public
servers): every matching post reaches the demo's store once, across a cut connection and a restart."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.e2e.test_demo import demo_env, interrupt_when, rows
from tests.support.fake_jetstream import BASE_TIME_US, DID, FakeJetstream, fake_jetstream, post_event
from tests.support.paths import REPO_ROOT

STEP_US = 300_000  # posts 0.3 s apart in Jetstream time: the 5 s rewind on reconnect replays about 16 of them


def demo_until(out: Path, env: dict[str, str], done: Any, timeout: float = 90) -> dict[str, Any]:
    """Run the demo until ``done(status)`` holds for the ingester's status.json, then Ctrl-C; its final status."""
    status_file = out / "ingester-state" / "status.json"
    status_file.unlink(missing_ok=True)  # the previous run's: this run's counts start again
    proc = subprocess.Popen(
        [sys.executable, "-m", "scripts.demo", "--source", "bluesky", "--no-view", "--output-dir", str(out)],
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + timeout

    def ready() -> bool:
        assert time.monotonic() < deadline, "the demo did not get there in time"
        try:
            return bool(done(json.loads(status_file.read_text())))
        except (OSError, ValueError):
            return False

    stdout, stderr = interrupt_when(proc, ready)
    assert proc.returncode == 0, stderr
    assert "live Bluesky Jetstream" in stdout
    status: dict[str, Any] = json.loads(status_file.read_text())
    return status


def test_every_matching_post_reaches_the_store_once_across_a_disconnect_and_a_restart(tmp_path: Path) -> None:
    fake = FakeJetstream(cut_after=[5, None, None])
    expected: list[str] = []

    def add(i: int) -> None:
        matching = i % 2 == 0
        text = f"post {i} about #AWS" if matching else f"post {i} about nothing"
        fake.add(post_event(BASE_TIME_US + i * STEP_US, text, rkey=f"3k{i:04d}"))
        if matching:
            expected.append(f"at://{DID}/app.bsky.feed.post/3k{i:04d}")

    out = tmp_path / "out"
    with fake_jetstream(fake):
        env = {**demo_env(), "BLUESKY_ENDPOINTS": fake.url, "TRACKED_TERMS": "aws"}

        def first(status: dict[str, Any]) -> bool:
            # StreamConnected now means "events are arriving", so it cannot be what starts the events: the
            # demo's first connection to the fake is.
            if fake.connections() >= 1 and not fake.events:
                for i in range(40):
                    add(i)
            return bool(fake.events) and status.get("delivered", 0) >= 20 and fake.connections() >= 2

        one = demo_until(out, env, first)
        for i in range(40, 60):  # posted while the demo is stopped
            add(i)
        two = demo_until(out, env, lambda status: status.get("delivered", 0) >= 10)

    stored = sorted(r[0] for r in rows(out / "tweets.db", "SELECT tweet_id FROM tweets"))
    assert stored == sorted(expected)  # nothing lost across the cut connection and the restart
    assert one["delivered"] + two["delivered"] == len(expected) == 30  # and nothing sent twice
    assert one["duplicates"] > 0  # the reconnect's rewind replayed posts: skipped by id
    assert fake.cursors[-1] is not None  # the restart resumed from the saved cursor
    docs = [json.loads(r[0]) for r in rows(out / "tweets.db")]
    assert {d["source"] for d in docs} == {"bluesky"}
    assert all(d["hashtags"] == [] and "aws" in d["rules"] for d in docs)  # no facets in these posts


def test_as_the_readme_writes_it_offline_it_stops_at_the_first_failed_lookup(tmp_path: Path) -> None:
    # Given `make demo ARGS="--source bluesky"` with no TRACKED_TERMS anywhere, on a machine whose DNS cannot resolve
    # the Jetstream host (.invalid never resolves)
    env = {k: v for k, v in demo_env().items() if k != "TRACKED_TERMS"}
    env["BLUESKY_ENDPOINTS"] = "wss://jetstream.invalid/subscribe"
    (tmp_path / "empty.env").write_text("")  # and no .env either
    run = subprocess.run(
        [sys.executable, "-m", "scripts.demo", "--source", "bluesky", "--no-view",
         "--output-dir", str(tmp_path / "out"), "--env-file", str(tmp_path / "empty.env")],
        cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    # Then it runs with the demo's terms (saying so), and stops on the failed lookup, naming it, instead of waiting
    # out the 60 s connect timeout and blaming "network, token or rules"
    assert "demo: TRACKED_TERMS is not set: tracking the demo's terms travel, music, sports, food, tech" in run.stderr
    assert run.returncode == 1, run.stderr
    assert "cannot look up the Bluesky Jetstream server's address (Jetstream jetstream.invalid: gaierror" in run.stdout
    assert "no network or no DNS on this machine" in run.stdout
    assert "within 60 s" not in run.stdout and "token or rules" not in run.stdout
