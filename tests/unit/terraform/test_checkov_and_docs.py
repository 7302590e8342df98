"""checkov over terraform/ with zero failures, every skip justified inline; module READMEs in step with the code."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from scripts.dev.terraform_docs import documented_dirs, parse_outputs, parse_variables, readme_docs_block, render_docs
from tests.support.paths import REPO_ROOT
from tests.support.terraform import TERRAFORM_DIR

SKIP_COMMENT = re.compile(r"#checkov:skip=(CKV2?_AWS_\d+):(.*)")


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


def test_skip_comments_are_well_formed() -> None:
    # A malformed skip comment would silently not apply; every one must name a check and give a reason.
    for path in TERRAFORM_DIR.rglob("*.tf"):
        for line in path.read_text().splitlines():
            if "checkov:skip" in line:
                match = SKIP_COMMENT.search(line)
                assert match, f"{path}: malformed skip comment: {line.strip()}"
                assert len(match.group(2).split()) >= 6, f"{path}: {match.group(1)} skipped without a reason"


@pytest.mark.parametrize("directory", documented_dirs(), ids=lambda p: p.name)
def test_readme_tables_match_variables_and_outputs(directory: Path) -> None:
    readme = directory / "README.md"
    assert readme.is_file(), f"{directory} has no README.md"
    block = readme_docs_block(readme)
    assert block is not None, f"{readme} has no generated inputs/outputs tables"
    assert block == render_docs(directory), (
        f"{readme} is out of date with variables.tf/outputs.tf: run `python -m scripts.dev.terraform_docs`"
    )


@pytest.mark.parametrize("directory", documented_dirs(), ids=lambda p: p.name)
def test_every_variable_and_output_is_described_and_typed(directory: Path) -> None:
    variables = parse_variables(directory)
    outputs = parse_outputs(directory)
    assert variables and outputs
    text = (directory / "variables.tf").read_text()
    assert len(variables) == text.count('\nvariable "') + text.startswith('variable "'), "variable blocks missed"
    for v in variables:
        assert len(v.description) > 10, f"{directory.name}: variable {v.name} lacks a description"
        assert v.type not in {"any", ""}, f"{directory.name}: variable {v.name} has no concrete type"
    for o in outputs:
        assert len(o.description) > 10, f"{directory.name}: output {o.name} lacks a description"


def test_docs_tables_detect_drift(tmp_path: Path) -> None:
    # The generator must notice a new variable: a README generated before it was added no longer matches.
    module = tmp_path / "m"
    module.mkdir()
    (module / "variables.tf").write_text(
        'variable "a" {\n  description = "first one here"\n  type        = string\n}\n'
    )
    (module / "outputs.tf").write_text('output "o" {\n  description = "an output here"\n  value       = 1\n}\n')
    before = render_docs(module)
    with (module / "variables.tf").open("a") as f:
        f.write('\nvariable "b" {\n  description = "second | piped"\n  type        = number\n  default     = 3\n}\n')
    after = render_docs(module)
    assert before != after
    assert "| `b` | second \\| piped | `number` | `3` | no |" in after
    assert "| `a` | first one here | `string` | n/a | yes |" in after
    assert "| `o` | an output here |" in after
