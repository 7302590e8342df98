"""The baseline the ingester benchmarks run beside: the ``ingester`` package of the last commit before issue 10.

``BASELINE_COMMIT``'s writer escalated the backoff on every resend, spooled a batch not fully accepted in 5 s,
counted a probe failed if any record failed and probed up to 30 s apart; its storage resent the whole WAL
segment after a kill -9, remembered only a delivered prefix of the spool, and its replay started over after a
restart. The benches run that package unchanged, taken from git, so no copy of the old code is kept.
"""

from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
BASELINE_COMMIT = "d168544d59fe752215225f3d453fe36a42cfa289"


def extract_baseline(work: Path) -> Path | None:
    """The baseline's ``ingester`` package in ``work/baseline`` (None without the git history)."""
    target = work / "baseline"
    target.mkdir()
    archive = work / "baseline.tar"
    done = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", "-o", str(archive), BASELINE_COMMIT, "ingester"],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        return None
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")
    return target
