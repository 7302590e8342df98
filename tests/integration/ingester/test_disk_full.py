"""The daemon on a tiny filesystem during a Firehose outage: the disk fills, nothing accepted is lost.

As root, ``unshare --mount`` gives the ingester its own mount namespace with a 4 MiB tmpfs as STATE_DIR
(the test reaches it through /proc/<pid>/root). Firehose (a local endpoint) is down from the start, so
the spool and the WAL fill the tmpfs; the ingester must stay up, pause its source, and say so in
status.json (written with no free space). Then space is freed and Firehose comes back: every tweet of
the file is delivered, each once, and the counters match what arrived.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from ingester.storage import SPOOL_DEDICATED_SHARE
from tests.support.firehose_endpoint import FirehoseEndpoint
from tests.support.ingester import tweet_id, write_replay
from tests.support.paths import REPO_ROOT

pytestmark = [pytest.mark.slow]

TWEETS = 12_000
TMPFS_SIZE = "4m"
FILLER_BYTES = 1024 * 1024


def _unavailable() -> str | None:
    if os.geteuid() != 0:
        return "needs root: unshare --mount and a tmpfs mount"
    if shutil.which("unshare") is None:
        return "unshare (util-linux) is not installed"
    probe = subprocess.run(["unshare", "--mount", "true"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        return f"unshare --mount refused: {probe.stderr.strip()}"
    return None


class TinyDiskDaemon:
    """``python -m ingester run`` on a replay, STATE_DIR a tmpfs of TMPFS_SIZE holding a FILLER_BYTES file;
    ``runs`` > 1 starts it again on the same tmpfs each time it ends (as systemd would after a crash)."""

    def __init__(self, tmp_path: Path, firehose_url: str, *, runs: int = 1, **env: str) -> None:
        self.state = tmp_path / "state"
        self.state.mkdir()
        replay = write_replay(tmp_path / "tweets.jsonl", TWEETS)
        script = (
            f'mount -t tmpfs -o size={TMPFS_SIZE} tmpfs "$1" && head -c {FILLER_BYTES} /dev/zero > "$1/filler" '
            "&& shift && " + '"$@"; ' * (runs - 1) + 'exec "$@"'
        )
        argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", str(self.state)]
        argv += [sys.executable, "-m", "ingester", "run", "--source", "replay", "--replay-file", str(replay)]
        argv += ["--delivery-stream", "tweets", "--state-dir", str(self.state), "--env-file", "/nonexistent"]
        environ = {
            **os.environ,
            "AWS_ENDPOINT_URL": firehose_url,
            "AWS_REGION": "us-east-1",
            "PYTHONPATH": f"{REPO_ROOT / 'lambda_src'}:{REPO_ROOT}",
            "STATUS_INTERVAL_S": "0.2",
            "SPOOL_AFTER_S": "0.2",
            "MAX_BACKOFF_S": "0.5",
            **env,
        }
        self.log = tmp_path / "ingester.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(argv, env=environ, stdout=out, stderr=subprocess.STDOUT, cwd=REPO_ROOT)
        self.inside = Path(f"/proc/{self.proc.pid}/root") / self.state.relative_to("/")

    def status(self) -> dict[str, Any]:
        try:
            loaded: dict[str, Any] = json.loads((self.inside / "status.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return loaded

    def wait_status(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            status = self.status()
            if status and predicate(status):
                return status
            assert time.monotonic() < deadline, f"status never matched; last: {status}"
            time.sleep(0.1)

    def finish(self) -> None:
        """Wait for the (last) run to end: exit 0 and no traceback in its log."""
        code = self.proc.wait(180)
        log = self.log.read_text()
        assert code == 0, log[-3000:]
        assert "Traceback" not in log

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stopped_line(self) -> dict[str, int]:
        for line in reversed(self.log.read_text().splitlines()):
            message = json.loads(line).get("message", "")
            if message.startswith("ingester stopped: "):
                return {k: int(v) for k, v in (part.split("=") for part in message.split(": ", 1)[1].split())}
        raise AssertionError("no 'ingester stopped' line in the log")


@contextmanager
def outage_on_a_tiny_disk(tmp_path: Path, **kwargs: Any) -> Iterator[tuple[FirehoseEndpoint, TinyDiskDaemon]]:
    """Firehose down, the daemon started on its tiny volume; killed on the way out if still running."""
    reason = _unavailable()
    if reason:
        pytest.skip(reason)
    with FirehoseEndpoint() as firehose:
        firehose.up.clear()
        daemon = TinyDiskDaemon(tmp_path, firehose.url, **kwargs)
        try:
            yield firehose, daemon
        finally:
            daemon.kill()


def full_disk(status: dict[str, Any]) -> bool:
    return status.get("storage_state") != "ok" and status.get("storage_errors", 0) > 0


def delivered_once(firehose: FirehoseEndpoint) -> list[str]:
    """Every tweet of the replay arrived, none twice."""
    ids = firehose.tweet_ids()
    assert len(ids) == len(set(ids)), f"{len(ids) - len(set(ids))} delivered twice"
    assert set(ids) == {tweet_id(i) for i in range(TWEETS)}
    return ids


@pytest.mark.parametrize(
    "spool_max_bytes",
    [str(64 * 1024 * 1024), "0"],
    ids=["disk-fills-before-the-cap", "default-cap-90-percent-of-its-own-volume"],
)
def test_full_disk_during_an_outage_loses_nothing(tmp_path: Path, spool_max_bytes: str) -> None:
    with outage_on_a_tiny_disk(tmp_path, SPOOL_MAX_BYTES=spool_max_bytes) as (firehose, daemon):
        # 1. The volume (or the spool cap) fills: the daemon stays up, pauses its source, and says so
        full = daemon.wait_status(full_disk)
        # STATE_DIR is the tmpfs's mount point: a volume of its own, so the default cap is 90 % of it
        assert full["spool_max_bytes"] == (int(spool_max_bytes) or int(4 * 1024 * 1024 * SPOOL_DEDICATED_SHARE))
        time.sleep(1.5)
        still = daemon.status()
        assert still["read"] == full["read"] < TWEETS  # paused: nothing more read
        assert still["storage_state"] != "ok"
        assert still["updated_at"] != full["updated_at"]  # status.json keeps being written on a full disk
        # 2. Space is freed while Firehose is still down: the daemon takes records again
        (daemon.inside / "filler").unlink()
        daemon.wait_status(lambda s: s["read"] > full["read"])
        # 3. Firehose comes back: everything drains and the replay ends
        firehose.up.set()
        daemon.finish()
    ids = delivered_once(firehose)
    counted = daemon.stopped_line()
    assert counted["read"] == TWEETS
    assert counted["delivered"] == len(ids)
    assert counted["dropped"] == 0


def test_kill_9_on_a_full_disk_then_restart_on_it_loses_and_repeats_nothing(tmp_path: Path) -> None:
    with outage_on_a_tiny_disk(tmp_path, runs=2) as (firehose, daemon):
        # The volume fills during the outage; the daemon is killed (an OOM kill, a crash) while paused
        full = daemon.wait_status(full_disk)
        os.kill(full["pid"], signal.SIGKILL)
        # It starts again on the still full volume: up, status written, source paused, nothing lost yet
        again = daemon.wait_status(lambda s: s["pid"] != full["pid"] and s.get("storage_state") != "ok")
        assert again["state"] == "running"
        (daemon.inside / "filler").unlink()
        firehose.up.set()
        daemon.finish()
    delivered_once(firehose)
