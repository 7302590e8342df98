"""`make plan`, `make deploy` and `make destroy` run terraform through scripts/ops/deployer_ip.py (real make, a
terraform stub that records what it was given, a fake checkip service on 127.0.0.1)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.commands import make_dry_run, needs_make
from tests.support.deployer_ip import PUBLIC_IP, Lookup, Run, record, serve_lookup, terraform_stub
from tests.support.paths import REPO_ROOT


@pytest.fixture
def lookup() -> Iterator[Lookup]:
    with serve_lookup() as state:
        yield state


def make_destroy(tmp_path: Path, checkip_url: str, *args: str) -> tuple[Run, Path]:
    """The real `make destroy` with the stub as terraform on an empty TF_DIR; (what happened, that TF_DIR)."""
    stub = terraform_stub(tmp_path)
    tf_dir = tmp_path / "tf"
    tf_dir.mkdir()
    argv = ["make", "--no-print-directory", "destroy", f"TF={stub}", f"TF_DIR={tf_dir}", f"CHECKIP_URL={checkip_url}"]
    return record(tmp_path, [*argv, *args]), tf_dir


# --- the make targets ---------------------------------------------------------------------------------------------


@needs_make
@pytest.mark.parametrize("target", ["plan", "deploy", "destroy"])
def test_make_targets_run_terraform_through_the_wrapper(target: str) -> None:
    lines = make_dry_run(target, "TFVARS=prod.tfvars", "CHECKIP_URL=http://127.0.0.1:1/")
    verb = {"plan": "plan", "deploy": "apply", "destroy": "destroy"}[target]
    (line,) = [line for line in lines if f" {verb} -input=false" in line]
    wrapper = "-m scripts.ops.deployer_ip --checkip-url http://127.0.0.1:1/ -- terraform -chdir=terraform"
    assert wrapper in line, line
    assert f"-var-file={REPO_ROOT}/prod.tfvars" in line


@needs_make
def test_make_destroy_passes_the_looked_up_ip_to_terraform(tmp_path: Path, lookup: Lookup) -> None:
    # destroy needs no build, so the real make target runs here end to end with a stub terraform.
    result, tf_dir = make_destroy(tmp_path, lookup.url, "AUTO_APPROVE=1")
    assert result.returncode == 0, result.stderr
    init, destroy = result.calls
    assert init["argv"][1] == "init" and init["cidrs"] is None  # init evaluates no variables
    assert destroy["argv"] == [f"-chdir={tf_dir}", "destroy", "-input=false", "-auto-approve"]
    assert destroy["cidrs"] == f'["{PUBLIC_IP}/32"]'


@needs_make
def test_make_stops_before_terraform_when_the_lookup_fails(tmp_path: Path) -> None:
    result, _ = make_destroy(tmp_path, "http://127.0.0.1:9/")
    assert result.returncode != 0
    assert [call["argv"][1] for call in result.calls] == ["init"]
    assert "dashboards_allowed_cidrs is not set and this machine's public IP is unknown" in result.stderr
