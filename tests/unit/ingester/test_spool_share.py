"""Spool caps of services sharing one state volume (ingester_source = both) add up to what one service may take."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from ingester.config import Settings
from ingester.storage import SPOOL_DEDICATED_SHARE, SPOOL_DEFAULT_SHARE, default_spool_max_bytes
from tests.support.paths import REPO_ROOT

MAIN_TF = REPO_ROOT / "terraform" / "modules" / "ingester" / "main.tf"


def test_an_explicit_share_wins_over_the_mount_point_rule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    st = os.statvfs(tmp_path)
    size = st.f_blocks * st.f_frsize
    monkeypatch.setattr(os.path, "ismount", lambda path: True)
    assert default_spool_max_bytes(tmp_path) == int(size * SPOOL_DEDICATED_SHARE)
    assert default_spool_max_bytes(tmp_path, 0.45) == int(size * 0.45)
    assert Settings.from_env({"SPOOL_SHARE": "0.45"}).spool_share == 0.45


def _env_maps() -> dict[str, tuple[str, dict[str, str]]]:
    """The two services' env maps in `both` mode, as main.tf builds them: name -> (STATE_DIR, settings)."""
    text = MAIN_TF.read_text(encoding="utf-8")
    share = re.search(r'spool_share\s*=\s*var\.ingester_source == "both" \? \{ SPOOL_SHARE = "([0-9.]+)" \}', text)
    env_line = re.search(r"^\s*env\s*=\s*merge\((.*)\)$", text, re.M)
    bluesky_line = re.search(r"^\s*bluesky_env\s*=\s*(.*)$", text, re.M)
    assert env_line and bluesky_line, "main.tf no longer builds env / bluesky_env as this test reads them"
    maps = {}
    for name, line, state_dir in (
        ("tweet-ingester", env_line.group(1), "/var/lib/tweet-ingester"),
        ("tweet-ingester-bluesky", bluesky_line.group(1), "/var/lib/tweet-ingester/bluesky"),
    ):
        env = {"SPOOL_SHARE": share.group(1)} if share and "local.spool_share" in line else {}
        maps[name] = (state_dir, env)
    return maps


def test_both_services_spool_caps_fit_the_state_volume() -> None:
    # Given the state volume mounted at /var/lib/tweet-ingester, the Bluesky service's STATE_DIR a folder of it
    total = 0.0
    for state_dir, env in _env_maps().values():
        settings = Settings.from_env(env)
        dedicated = state_dir == "/var/lib/tweet-ingester"
        # When each computes its default cap (SPOOL_MAX_BYTES unset)
        share = settings.spool_share or (SPOOL_DEDICATED_SHARE if dedicated else SPOOL_DEFAULT_SHARE)
        total += share
    # Then together they take no more of the volume than one service alone would
    assert total <= SPOOL_DEDICATED_SHARE + 1e-9
