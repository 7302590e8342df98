"""The ingester user-data's bundle download, run with bash against a fake ``aws`` CLI (no root, no AWS)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from tests.support.terraform import MODULES_DIR

TEMPLATE = MODULES_DIR / "ingester" / "user_data.sh.tftpl"
FAKE_AWS = """#!/bin/bash
# Fake aws CLI: head-object fails until $FAKE_DIR/unreadable_left reaches 0; s3 cp copies the bundle.
echo "$*" >> "$FAKE_DIR/calls"
left=$(cat "$FAKE_DIR/unreadable_left")
if [ "$1 $2" = "s3api head-object" ]; then
  if [ "$left" -gt 0 ]; then echo $((left - 1)) > "$FAKE_DIR/unreadable_left"; exit 254; fi
  exit 0
fi
if [ "$1 $2" = "s3 cp" ]; then
  if [ "$left" -gt 0 ]; then echo "fatal error: An error occurred (403) Forbidden" >&2; exit 1; fi
  echo bundle > "$FAKE_DIR/copied"; exit 0
fi
exit 2
"""


def fetch_section() -> str:
    """The download lines of the template (wait loop and copy), rendered for bucket b, key k, region r."""
    lines = TEMPLATE.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("for attempt in"))
    end = next(i for i, line in enumerate(lines) if line.startswith("aws s3 cp"))
    text = "\n".join(lines[start : end + 1])
    return text.replace("${region}", "r").replace("${bucket}", "b").replace("${key}", "k")


def run_fetch(tmp_path: Path, unreadable_for: int) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    if shutil.which("bash") is None:
        pytest.skip("bash not found")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "aws"
    fake.write_text(FAKE_AWS)
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    (tmp_path / "unreadable_left").write_text(str(unreadable_for))
    script = "set -euo pipefail\nsleep() { :; }\n" + fetch_section() + "\n"
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "FAKE_DIR": str(tmp_path)}
    proc = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=60, check=False)
    calls = (tmp_path / "calls").read_text().splitlines() if (tmp_path / "calls").exists() else []
    return proc, calls


def test_download_waits_until_the_role_can_read_the_bundle(tmp_path: Path) -> None:
    # Given an instance whose role cannot read the bundle for its first three tries (IAM propagation)
    proc, calls = run_fetch(tmp_path, unreadable_for=3)
    # Then the bootstrap retries instead of failing, and copies the bundle once it is readable
    assert proc.returncode == 0, proc.stderr
    assert [c.split()[1] for c in calls] == ["head-object"] * 4 + ["cp"]
    assert "s3://b/k" in calls[-1] and "--region r" in calls[-1]
    assert (tmp_path / "copied").read_text() == "bundle\n"
    assert proc.stderr.count("not readable yet") == 3


def test_download_gives_up_with_an_error_after_the_last_attempt(tmp_path: Path) -> None:
    # Given a bundle that never becomes readable, the script stops (set -e) after 30 tries and the copy
    proc, calls = run_fetch(tmp_path, unreadable_for=1000)
    assert proc.returncode != 0
    assert [c.split()[1] for c in calls] == ["head-object"] * 30 + ["cp"]
    assert "403" in proc.stderr
    assert not (tmp_path / "copied").exists()


def render(tmp_path: Path, bluesky_env: dict[str, str]) -> str:
    """The template rendered by terraform (``templatefile`` in ``terraform console``, no provider needed)."""
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("terraform not found")
    shutil.copy(TEMPLATE, tmp_path / "t.tftpl")
    env = '{ INGESTER_SOURCE = "x", TRACKED_TERMS = "aws" }'
    blue = "{ " + ", ".join(f'{k} = "{v}"' for k, v in bluesky_env.items()) + " }"
    expression = (
        f'templatefile("t.tftpl", {{ env = {env}, bluesky_env = {blue}, region = "r", bucket = "b", key = "k", '
        'bundle_sha256 = "s", state_volume_id = "vol-0123456789abcdef0", state_device_name = "/dev/sdf" })'
    )
    proc = subprocess.run(
        [terraform, "console"], input=expression, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=True
    )
    return proc.stdout


def test_both_sources_write_a_second_env_file_and_mount_the_state_volume_for_both_units(tmp_path: Path) -> None:
    both = render(tmp_path, {"INGESTER_SOURCE": "bluesky", "STATE_DIR": "/var/lib/tweet-ingester/bluesky"})
    assert "INGESTER_SOURCE=x\n" in both and "INGESTER_SOURCE=bluesky\n" in both
    assert "STATE_DIR=/var/lib/tweet-ingester/bluesky\n" in both
    assert "mv /etc/tweet-ingester/ingester-bluesky.env.new /etc/tweet-ingester/ingester-bluesky.env" in both
    assert "for unit in tweet-ingester tweet-ingester-bluesky; do" in both  # RequiresMountsFor for both units
    one = render(tmp_path, {})
    assert "INGESTER_SOURCE=bluesky" not in one
    assert "rm -f /etc/tweet-ingester/ingester-bluesky.env" in one  # a switch back to one source removes it
