"""A fresh clone, no Terraform state and no AWS credentials: `make ssh`, `make logs` and `make plan` each answer with
one line that says what to do (and make's own "*** Error" trailer), not Terraform's diagnostics or a command made of
them. The clone is the repository's files as git tracks them (plus new files not yet committed), with the real
terraform CLI; then again after `terraform init` from the provider mirror, when Terraform has a root but no state."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.commands import needs_make, run
from tests.support.paths import REPO_ROOT
from tests.support.terraform import terraform_binary, unavailable_reason, write_cli_config

pytestmark = [needs_make, pytest.mark.terraform]


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("fresh-clone") / "repo"
    listed = run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], check=True).stdout
    for name in filter(None, listed.split("\0")):
        source = REPO_ROOT / name
        if source.is_file() and not source.is_symlink():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, root / name)
    return root


def fresh_env(home: Path, **extra: str) -> dict[str, str]:
    """A user's shell with no AWS credentials anywhere (the instance metadata probe still runs: none answers here)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_"))}
    return {**env, "HOME": str(home), **extra}


def actionable_lines(proc: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in (proc.stdout + proc.stderr).splitlines() if line and not line.startswith("make: ***")]


def make_in(clone: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    terraform = terraform_binary()
    assert terraform is not None
    return run(["make", "--no-print-directory", *args, f"TF={terraform}", f"PYTHON={sys.executable}"], env=env,
               cwd=clone, timeout=120)  # fmt: skip


@pytest.mark.parametrize("target", ["ssh", "logs"])
def test_ssh_and_logs_before_init(clone: Path, tmp_path: Path, target: str) -> None:
    proc = make_in(clone, fresh_env(tmp_path), target)
    assert proc.returncode != 0
    (line,) = actionable_lines(proc)
    assert line.startswith(f"make {target}: no deployed stack in terraform (")
    assert line.endswith(f"run `make deploy` first, or TF_DIR=<the root module you deployed from> make {target}")


@pytest.mark.parametrize("target", ["plan", "deploy", "destroy"])
def test_terraform_targets_without_credentials_stop_before_terraform(clone: Path, tmp_path: Path, target: str) -> None:
    proc = make_in(clone, fresh_env(tmp_path), target)
    assert proc.returncode != 0
    (line,) = actionable_lines(proc)
    assert line.startswith(f"make {target}: no AWS credentials in this shell: run `aws configure`")
    assert not (clone / "dist").exists(), "the check runs before the build"
    assert not (clone / "terraform" / ".terraform").exists(), "the check runs before terraform init"


def test_ssh_and_logs_after_init_with_no_state(clone: Path, tmp_path: Path) -> None:
    # Given `terraform init` ran (from the provider mirror) but nothing was applied
    cli = write_cli_config(tmp_path / "cli")
    env = fresh_env(tmp_path, TF_CLI_CONFIG_FILE=str(cli))
    init = run([str(terraform_binary()), "-chdir=terraform", "init", "-input=false", "-no-color"], env=env, cwd=clone,
               timeout=300)  # fmt: skip
    assert init.returncode == 0, init.stderr
    for target in ("ssh", "logs"):
        proc = make_in(clone, env, target)
        # Then Terraform's "No outputs found" warning is not run as a command: one line, nothing else started
        assert proc.returncode != 0
        (line,) = actionable_lines(proc)
        assert line.startswith(f"make {target}: no deployed stack in terraform (its Terraform state has no ssh_command")
        assert "command not found" not in proc.stderr
