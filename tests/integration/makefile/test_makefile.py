"""The Makefile's Terraform targets: deploy order, and ssh/logs choosing SSH or Session Manager from the outputs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.commands import make, make_dry_run, needs_make
from tests.support.paths import REPO_ROOT

pytestmark = needs_make

STUB = """#!/usr/bin/env bash
# Records its argv (one JSON list per line) and, as terraform, answers `output -no-color -json` from $FAKE_OUTPUTS.
printf '%s\\n' "$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1:]))' "$(basename "$0")" "$@")" >> "$CALLS"
if [ "$(basename "$0")" = terraform ] && [ "$2" = output ] && [ "$4" = -json ]; then
  python3 -c 'import json,os; o = json.loads(os.environ["FAKE_OUTPUTS"])
print(json.dumps({k: {"value": v} for k, v in o.items()}))'
fi
"""


def run_make(
    tmp_path: Path, target: str, outputs: dict[str, str], *, status: int = 0
) -> tuple[list[list[str]], subprocess.CompletedProcess[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name in ("terraform", "ssh", "aws"):
        stub = bin_dir / name
        stub.write_text(STUB)
        stub.chmod(0o755)
    calls = tmp_path / "calls.jsonl"
    calls.unlink(missing_ok=True)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "CALLS": str(calls),
        "FAKE_OUTPUTS": json.dumps(outputs),
        "HOME": str(tmp_path),
    }
    # PYTHON: this interpreter, not a pyenv shim (which puts its own bin/, with a real aws, first on PATH)
    proc = make(target, f"TF={bin_dir / 'terraform'}", f"PYTHON={sys.executable}", env=env)
    assert proc.returncode == status, proc.stdout + proc.stderr
    return [json.loads(line) for line in calls.read_text().splitlines()], proc


SSH_OUTPUTS = {"ssh_command": "ssh -i ~/.ssh/ops.pem ec2-user@203.0.113.7", "ingester_instance_id": "i-0abc"}
SSM_OUTPUTS = {
    "ssh_command": "aws ssm start-session --region eu-west-1 --target i-0abc",
    "ingester_instance_id": "i-0abc",
    "aws_region": "eu-west-1",
}


def test_ssh_runs_the_ssh_command_output(tmp_path: Path) -> None:
    calls, _ = run_make(tmp_path, "ssh", SSH_OUTPUTS)
    assert calls[-1] == ["ssh", "-i", f"{tmp_path}/.ssh/ops.pem", "ec2-user@203.0.113.7"]


def test_ssh_falls_back_to_session_manager(tmp_path: Path) -> None:
    calls, _ = run_make(tmp_path, "ssh", SSM_OUTPUTS)
    assert calls[-1] == ["aws", "ssm", "start-session", "--region", "eu-west-1", "--target", "i-0abc"]


def test_logs_follows_the_journal_over_ssh(tmp_path: Path) -> None:
    calls, _ = run_make(tmp_path, "logs", SSH_OUTPUTS)
    assert calls[-1] == [
        "ssh",
        "-i",
        f"{tmp_path}/.ssh/ops.pem",
        "ec2-user@203.0.113.7",
        "-t",
        "sudo",
        "journalctl",
        "-u",
        "tweet-ingester",
        "-f",
    ]


def test_logs_follows_the_journal_through_session_manager(tmp_path: Path) -> None:
    calls, _ = run_make(tmp_path, "logs", SSM_OUTPUTS)
    assert calls[-1] == [
        "aws",
        "ssm",
        "start-session",
        "--region",
        "eu-west-1",
        "--target",
        "i-0abc",
        "--document-name",
        "AWS-StartInteractiveCommand",
        "--parameters",
        '{"command":["sudo journalctl -u tweet-ingester -f"]}',
    ]


@pytest.mark.parametrize("target", ["ssh", "logs"])
def test_ssh_and_logs_on_an_empty_state_are_one_line_and_run_nothing(tmp_path: Path, target: str) -> None:
    # Given a root module with no state (`terraform output -json` prints {} and exits 0, as after `init`)
    calls, proc = run_make(tmp_path, target, {}, status=2)
    # Then make says what to do in one line, and neither ssh nor aws is started with Terraform's text as arguments
    (line,) = [line for line in proc.stderr.splitlines() if not line.startswith("make: ***")]
    assert line.startswith(f"make {target}: no deployed stack in terraform ")
    assert "run `make deploy` first" in line
    assert [call[0] for call in calls] == ["terraform"]


def test_deploy_builds_applies_then_sets_up_opensearch() -> None:
    lines = make_dry_run("deploy", "TFVARS=prod.tfvars", "AUTO_APPROVE=1")

    def index(fragment: str) -> int:
        return next(i for i, line in enumerate(lines) if fragment in line)

    build, init = index("make build"), index("init -input=false")
    apply = index("apply -input=false")
    setup = index("make opensearch-setup")
    assert build < init < apply < setup
    assert f"-var-file={REPO_ROOT}/prod.tfvars" in lines[apply]
    assert "-auto-approve" in lines[apply]


def dry_run(*args: str) -> list[str]:
    """`make -n` from a fresh state: what the targets would run (nothing is executed)."""
    return make_dry_run("-W", "pyproject.toml", *args, "VENV=/nonexistent/dev", "RUN_VENV=/nonexistent/run")


def test_build_needs_no_virtualenv() -> None:
    # Building the artefacts (what `make deploy` runs first) installs nothing: python3 and pip are enough.
    lines = dry_run("build")
    assert any("scripts/packaging/build_lambda.py" in line for line in lines)
    assert any("scripts/packaging/build_ingester_bundle.py" in line for line in lines)
    assert not [line for line in lines if "venv" in line or "pip install" in line], lines


@pytest.mark.parametrize(
    "target", ["demo", "opensearch-setup", "redrive", "smoke", "state-backend", "upgrade-ingester"]
)
def test_demo_and_operator_tools_use_the_lean_runtime_env(target: str) -> None:
    lines = dry_run(target)
    assert any("/nonexistent/run" in line and "runtime" in line for line in lines), lines
    assert not [line for line in lines if "/nonexistent/dev" in line], lines


def test_upgrade_ingester_builds_the_bundle_before_installing_it() -> None:
    lines = dry_run("upgrade-ingester", "ARGS=--timeout 60")
    build = next(i for i, line in enumerate(lines) if "make build" in line)
    upgrade = next(i for i, line in enumerate(lines) if "-m scripts.ops.upgrade_ingester" in line)
    assert build < upgrade
    assert lines[upgrade].endswith("--tf-dir terraform --timeout 60")


def test_runtime_pins_hold_no_development_tool() -> None:
    import tomllib

    extras = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    runtime = {pin.split("==")[0].split("[")[0].lower() for pin in extras["runtime"]}
    dev = {pin.split("==")[0].split("[")[0].lower() for pin in extras["dev"]}
    assert {"boto3", "requests", "tweepy", "python-dotenv", "vadersentiment"} <= runtime
    assert not runtime & {"moto", "pytest", "mypy", "ruff", "hypothesis", "jsonschema"}
    assert not runtime & dev, "a pin listed twice drifts: the dev env installs runtime + dev"
    # the dev env installs both lists
    assert any("runtime dev" in line for line in dry_run("setup"))


def run_with_only(tmp_path: Path, pythons: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """make with a PATH holding just a shell and the given fake interpreters (name -> script body)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for tool in ("bash", "sh", "rm", "cat"):
        found = shutil.which(tool)
        assert found is not None
        (bin_dir / tool).symlink_to(found)
    for name, body in pythons.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)
    binary = shutil.which("make")
    assert binary is not None
    return make(*args, env={"PATH": str(bin_dir), "HOME": str(tmp_path)}, binary=binary)


def test_no_python_311_is_one_clear_line(tmp_path: Path) -> None:
    # Given only a python3 that is older than 3.11 (it fails the version probe)
    proc = run_with_only(tmp_path, {"python3": "exit 1"}, "build")
    # Then make says what it needs in one line instead of a traceback
    assert proc.returncode != 0
    assert "make: needs Python >= 3.11" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_the_newest_python_311_plus_is_picked(tmp_path: Path) -> None:
    # python3 is too old, python3.12 qualifies: the probe picks python3.12 (`make -n` only prints)
    proc = run_with_only(tmp_path, {"python3": "exit 1", "python3.12": "exit 0"}, "-n", "build")
    assert proc.returncode == 0, proc.stderr
    assert "python3.12 scripts/packaging/build_lambda.py" in proc.stdout


def test_a_virtualenv_of_an_older_python_is_rebuilt(tmp_path: Path) -> None:
    # Given a .venv-run left behind by an older Python (its interpreter fails the version probe)
    venv = tmp_path / "old-venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text("#!/bin/sh\nexit 1\n")
    (venv / "bin" / "python").chmod(0o755)
    # When a target needs it, with a Python that cannot make a venv (so the run stops right after the check)
    proc = run_with_only(tmp_path, {"python3.11": 'case "$1" in -c) exit 0;; *) exit 3;; esac'}, "setup-runtime",
                         f"RUN_VENV={venv}")  # fmt: skip
    # Then the stale one is removed instead of reused, and nothing half-made is left behind
    assert "is not a Python >= 3.11 virtualenv; rebuilding it" in proc.stdout
    assert proc.returncode != 0
    assert not venv.exists()


@pytest.mark.parametrize(("no_color", "expected"), [("1", "-no-color"), ("", "")])
def test_no_color_reaches_terraform(no_color: str, expected: str) -> None:
    # Terraform does not read NO_COLOR itself; every terraform command a target runs gets -no-color through
    # TF_CLI_ARGS_<command> (a recipe line added with --eval prints them as the targets' recipes would see them)
    show = 'show-tf-args: ; @echo "$${TF_CLI_ARGS_init:-}|$${TF_CLI_ARGS_plan:-}|$${TF_CLI_ARGS_apply:-}|' \
           '$${TF_CLI_ARGS_destroy:-}|$${TF_CLI_ARGS_output:-}"'  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    proc = make("-s", f"NO_COLOR={no_color}", "--eval", show, "show-tf-args", env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "|".join([expected] * 5)


@needs_make
def test_make_demo_opensearch_runs_the_module_from_the_runtime_env() -> None:
    lines = make_dry_run("-W", "pyproject.toml", "demo-opensearch", "ARGS=-- --loop", "RUN_VENV=/nonexistent/run")
    assert any(
        line.startswith("/nonexistent/run/bin/python -m scripts.demo.local_opensearch -- --loop") for line in lines
    )
