"""scripts/deployer_ip.py and the make targets that use it: the deployer's IP is allowed only when nothing is set.

A fake lookup service on 127.0.0.1 stands in for https://checkip.amazonaws.com; the "terraform" the wrapper runs
is a stub that records its argv and the TF_VAR_ value it was given.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from scripts import deployer_ip
from tests.support.commands import make_dry_run, needs_make
from tests.support.commands import run as run_command
from tests.support.net import QuietHandler
from tests.support.paths import REPO_ROOT
from tests.support.terraform import TERRAFORM_DIR

PUBLIC_IP = "52.94.236.248"  # a global address: the wrapper refuses private and documentation ranges
CIDRS_ENV = "TF_VAR_dashboards_allowed_cidrs"


@dataclass
class Lookup:
    """The fake checkip service: answers ``body`` with ``status`` and counts the requests."""

    url: str
    body: str = PUBLIC_IP + "\n"
    status: int = 200
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def lookup() -> Iterator[Lookup]:
    state = Lookup(url="")

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            state.requests.append(self.path)
            self.reply(state.status, state.body.encode())

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


RECORDER = """#!/usr/bin/env python3
# Stands in for terraform: records argv and the dashboards_allowed_cidrs it was given, one JSON line per call.
import json, os, sys
with open(os.environ["CALLS"], "a") as f:
    f.write(json.dumps({"argv": sys.argv[1:], "cidrs": os.environ.get("TF_VAR_dashboards_allowed_cidrs")}) + "\\n")
"""


@dataclass
class Run:
    returncode: int
    stderr: str
    calls: list[dict[str, Any]]


def terraform_stub(tmp_path: Path) -> Path:
    stub = tmp_path / "bin" / "terraform"
    stub.parent.mkdir(exist_ok=True)
    stub.write_text(RECORDER)
    stub.chmod(0o755)
    return stub


def record(tmp_path: Path, argv: list[str], env: dict[str, str] | None = None) -> Run:
    """Run argv from the repository root without this shell's TF_VAR_ values; the stub records what it was given."""
    calls = tmp_path / "calls.jsonl"
    calls.unlink(missing_ok=True)
    base = {k: v for k, v in os.environ.items() if not k.startswith("TF_VAR_")}
    proc = run_command(argv, env={**base, "CALLS": str(calls), **(env or {})})
    recorded = [json.loads(line) for line in calls.read_text().splitlines()] if calls.exists() else []
    return Run(proc.returncode, proc.stderr, recorded)


def run_wrapper(tmp_path: Path, lookup_url: str, tf_args: list[str], env: dict[str, str] | None = None) -> Run:
    stub = terraform_stub(tmp_path)
    argv = [sys.executable, "-m", "scripts.deployer_ip", "--checkip-url", lookup_url, "--", str(stub), *tf_args]
    return record(tmp_path, argv, env)


def make_destroy(tmp_path: Path, checkip_url: str, *args: str) -> tuple[Run, Path]:
    """The real `make destroy` with the stub as terraform on an empty TF_DIR; (what happened, that TF_DIR)."""
    stub = terraform_stub(tmp_path)
    tf_dir = tmp_path / "tf"
    tf_dir.mkdir()
    argv = ["make", "--no-print-directory", "destroy", f"TF={stub}", f"TF_DIR={tf_dir}", f"CHECKIP_URL={checkip_url}"]
    return record(tmp_path, [*argv, *args]), tf_dir


@pytest.fixture
def tf_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "terraform"
    directory.mkdir()
    return directory


def test_unset_list_gets_this_machines_ip(tmp_path: Path, tf_dir: Path, lookup: Lookup) -> None:
    # Given no setting anywhere (the shipped example copied as terraform.tfvars leaves it commented out)
    shutil.copy(TERRAFORM_DIR / "terraform.tfvars.example", tf_dir / "terraform.tfvars")
    # When make runs terraform through the wrapper
    run = run_wrapper(tmp_path, lookup.url, [f"-chdir={tf_dir}", "apply", "-input=false"])
    # Then terraform gets exactly this machine's /32, unchanged arguments, and the user is told
    assert run.returncode == 0, run.stderr
    assert run.calls == [{"argv": [f"-chdir={tf_dir}", "apply", "-input=false"], "cidrs": f'["{PUBLIC_IP}/32"]'}]
    assert len(lookup.requests) == 1
    assert f"allowing only this machine's public IP {PUBLIC_IP}/32 (from {lookup.url})" in run.stderr


def test_ipv6_answer_gets_a_128(tmp_path: Path, tf_dir: Path, lookup: Lookup) -> None:
    lookup.body = "2600:1f18::1\n"
    run = run_wrapper(tmp_path, lookup.url, [f"-chdir={tf_dir}", "plan"])
    assert run.calls[0]["cidrs"] == '["2600:1f18::1/128"]'


@pytest.mark.parametrize(
    ("where", "content"),
    [
        ("terraform.tfvars", 'dashboards_allowed_cidrs = ["203.0.113.0/24"]\n'),
        ("terraform.tfvars", "# comment\n  dashboards_allowed_cidrs=[]\n"),  # even empty: Terraform then refuses it
        ("terraform.tfvars.json", '{"dashboards_allowed_cidrs": ["203.0.113.0/24"]}'),
        ("team.auto.tfvars", 'opensearch_vpc = {\n  subnet_ids = ["subnet-1"]\n  security_group_ids = ["sg-1"]\n}\n'),
        ("team.auto.tfvars.json", '{"opensearch_vpc": {"subnet_ids": ["s"], "security_group_ids": ["g"]}}'),
        ("-var-file", 'dashboards_allowed_cidrs = ["203.0.113.0/24"]\n'),
        ("env", '["203.0.113.0/24"]'),
        ("-var", 'dashboards_allowed_cidrs=["203.0.113.0/24"]'),
    ],
)
def test_users_own_setting_wins_and_nothing_is_looked_up(
    tmp_path: Path, tf_dir: Path, lookup: Lookup, where: str, content: str
) -> None:
    args = [f"-chdir={tf_dir}", "apply"]
    env: dict[str, str] = {}
    if where == "env":
        env[CIDRS_ENV] = content
    elif where == "-var":
        args += ["-var", content]
    elif where == "-var-file":
        (tmp_path / "prod.tfvars").write_text(content)
        args.append(f"-var-file={tmp_path / 'prod.tfvars'}")
    else:
        (tf_dir / where).write_text(content)
    run = run_wrapper(tmp_path, lookup.url, args, env)
    assert run.returncode == 0, run.stderr
    assert lookup.requests == []
    assert run.calls == [{"argv": args, "cidrs": env.get(CIDRS_ENV)}]
    assert "using your setting" in run.stderr


@pytest.mark.parametrize(
    "content",
    [
        "opensearch_vpc = null\n",
        '# dashboards_allowed_cidrs = ["203.0.113.0/24"]\n// opensearch_vpc = {}\n',
        '/*\ndashboards_allowed_cidrs = ["203.0.113.0/24"]\n*/\nname_prefix = "x"\n',
        'ssh_allowed_cidrs = ["203.0.113.0/24"]\n',
    ],
)
def test_commented_null_or_other_settings_do_not_count(
    tmp_path: Path, tf_dir: Path, lookup: Lookup, content: str
) -> None:
    (tf_dir / "terraform.tfvars").write_text(content)
    run = run_wrapper(tmp_path, lookup.url, [f"-chdir={tf_dir}", "plan"])
    assert run.calls[0]["cidrs"] == f'["{PUBLIC_IP}/32"]'


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (500, "oops", "did not answer"),
        (200, "<html>captive portal</html>", "not an IP address"),
        (200, "10.1.2.3", "not a public address"),
    ],
)
def test_failed_lookup_refuses_with_one_line_and_runs_nothing(
    tmp_path: Path, tf_dir: Path, lookup: Lookup, status: int, body: str, reason: str
) -> None:
    lookup.status, lookup.body = status, body
    run = run_wrapper(tmp_path, lookup.url, [f"-chdir={tf_dir}", "apply"])
    assert run.returncode == deployer_ip.EXIT_REFUSED
    assert run.calls == []
    (line,) = run.stderr.strip().splitlines()
    assert reason in line
    assert 'Set dashboards_allowed_cidrs = ["<your IP>/32"]' in line


def test_unreachable_lookup_refuses(tmp_path: Path, tf_dir: Path) -> None:
    run = run_wrapper(tmp_path, "http://127.0.0.1:9/", [f"-chdir={tf_dir}", "apply"])
    assert run.returncode == deployer_ip.EXIT_REFUSED
    assert run.calls == []
    assert "this machine's public IP is unknown" in run.stderr


def test_var_file_paths_are_relative_to_chdir(tmp_path: Path) -> None:
    command = deployer_ip.parse_command(
        ["terraform", "-chdir=tf", "apply", "-var-file", "a.tfvars", "-var-file=/abs/b.tfvars", "-var=x=1"], tmp_path
    )
    assert command.chdir == tmp_path / "tf"
    assert command.var_files == (tmp_path / "tf" / "a.tfvars", Path("/abs/b.tfvars"))
    assert command.var_names == {"x"}


# --- the make targets ---------------------------------------------------------------------------------------------


@needs_make
@pytest.mark.parametrize("target", ["plan", "deploy", "destroy"])
def test_make_targets_run_terraform_through_the_wrapper(target: str) -> None:
    lines = make_dry_run(target, "TFVARS=prod.tfvars", "CHECKIP_URL=http://127.0.0.1:1/")
    verb = {"plan": "plan", "deploy": "apply", "destroy": "destroy"}[target]
    (line,) = [line for line in lines if f" {verb} -input=false" in line]
    wrapper = "-m scripts.deployer_ip --checkip-url http://127.0.0.1:1/ -- terraform -chdir=terraform"
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
