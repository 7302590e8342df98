"""The systemd unit: `systemd-analyze verify` must print nothing (it exits 0 even on bad lines)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ingester.config import SHUTDOWN_GRACE_MAX_S
from tests.support.paths import REPO_ROOT

UNIT = REPO_ROOT / "ingester" / "systemd" / "tweet-ingester.service"


def verify(unit_text: str, tmp_path: Path) -> str:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd)")
    path = tmp_path / "tweet-ingester.service"
    path.write_text(unit_text)
    result = subprocess.run([analyze, "verify", str(path)], check=False, capture_output=True, text=True, timeout=60)
    return (result.stdout + result.stderr).strip()


def runnable_copy() -> str:
    # /opt/tweet-ingester does not exist here: point ExecStart at an interpreter that does.
    return UNIT.read_text().replace("/opt/tweet-ingester/venv/bin/python", sys.executable)


def test_unit_verifies_without_any_output(tmp_path: Path) -> None:
    assert verify(runnable_copy(), tmp_path) == ""


def test_verify_would_catch_a_bad_line(tmp_path: Path) -> None:
    # Guard against a test that cannot fail: the same check reports an unknown key
    assert "Unknown key" in verify(runnable_copy().replace("[Service]", "[Service]\nRestartt=always"), tmp_path)


def directives() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            out.setdefault(key.strip(), []).append(value.strip())
    return out


def test_unit_contract() -> None:
    d = directives()
    assert d["User"] == ["tweet-ingester"]
    assert d["EnvironmentFile"] == ["/etc/tweet-ingester/ingester.env"]
    assert d["StateDirectory"] == ["tweet-ingester"]
    assert d["ExecStart"] == ["/opt/tweet-ingester/venv/bin/python -m ingester run"]
    assert d["Restart"] == ["always"]
    assert int(d["RestartSec"][0]) > 0
    assert d["RestrictAddressFamilies"] == ["AF_INET AF_INET6 AF_UNIX"]
    for flag in ("NoNewPrivileges", "ProtectHome", "PrivateTmp", "ProtectKernelTunables", "ProtectKernelModules"):
        assert d[flag] == ["yes"], flag
    assert d["ProtectSystem"] == ["strict"]
    # The longest flush the settings allow fits in the stop timeout: SHUTDOWN_GRACE_S + up to 10 s for the
    # source to let go + the final fsyncs
    assert int(d["TimeoutStopSec"][0]) >= SHUTDOWN_GRACE_MAX_S + 10 + 5
    assert d["RestartPreventExitStatus"] == ["2"]
