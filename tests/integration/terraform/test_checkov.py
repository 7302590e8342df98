"""checkov over terraform/ (its own virtualenv, offline): zero failed checks, every skip with a reason."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.support.paths import REPO_ROOT
from tests.support.terraform import TERRAFORM_DIR


def checkov_binary() -> Path | None:
    configured = os.environ.get("CHECKOV_BIN")
    candidate = Path(configured) if configured else REPO_ROOT / ".venv-checkov" / "bin" / "checkov"
    return candidate if candidate.is_file() else None


@pytest.fixture(scope="module")
def checkov_report() -> dict[str, object]:
    binary = checkov_binary()
    if binary is None:
        pytest.skip("checkov not installed (make test installs it in .venv-checkov and sets CHECKOV_BIN)")
    proc = subprocess.run(
        [str(binary), "--skip-download", "--framework", "terraform", "-d", str(TERRAFORM_DIR), "-o", "json"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
    )
    assert proc.stdout.strip(), f"checkov printed no report (exit {proc.returncode}):\n{proc.stderr[-4000:]}"
    report = json.loads(proc.stdout)
    reports = report if isinstance(report, list) else [report]
    (terraform,) = [r for r in reports if r.get("check_type") == "terraform"]
    return terraform


def test_checkov_reports_no_failed_check(checkov_report: dict[str, object]) -> None:
    results = checkov_report["results"]
    assert isinstance(results, dict)
    assert checkov_report["summary"]["parsing_errors"] == 0  # type: ignore[index]
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']}): {c['check_name']}" for c in results["failed_checks"]
    ]
    assert failed == [], "\n".join(failed)
    assert results["passed_checks"], "checkov evaluated nothing"


def test_every_checkov_skip_states_its_reason(checkov_report: dict[str, object]) -> None:
    results = checkov_report["results"]
    assert isinstance(results, dict)
    for check in results["skipped_checks"]:
        reason = (check.get("check_result") or {}).get("suppress_comment", "")
        assert len(reason.split()) >= 6, f"{check['check_id']} on {check['resource']} is skipped without a reason"
