"""scripts/ops/deployer_ip.py: the deployer's IP is allowed only when nothing is set (the make targets that use it:
tests/integration/deployer_ip).

A fake lookup service on 127.0.0.1 stands in for https://checkip.amazonaws.com; the "terraform" the wrapper runs
is a stub that records its argv and the TF_VAR_ value it was given.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.ops import deployer_ip
from tests.support.deployer_ip import PUBLIC_IP, Lookup, run_wrapper, serve_lookup
from tests.support.terraform import TERRAFORM_DIR

CIDRS_ENV = "TF_VAR_dashboards_allowed_cidrs"


@pytest.fixture
def lookup() -> Iterator[Lookup]:
    with serve_lookup() as state:
        yield state


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
