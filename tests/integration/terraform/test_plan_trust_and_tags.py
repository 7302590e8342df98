"""Plan-level checks of the admin role's trust and the ingester's volume tags, on the unchanged root against moto.

- The OpenSearch admin role (the domain's master user) trusts the identity that applies Terraform by default, never
  the account root: a trust of ``arn:aws:iam::<account>:root`` lets every principal whose IAM policy allows
  ``sts:AssumeRole`` on ``*`` become the master user. For an assumed-role session (IAM Identity Center, CI) that is
  the role, with its path, as a trust policy must name it.
- The instance tags its root volume through ``root_block_device.tags``, not ``volume_tags``: the provider documents
  that ``volume_tags`` and the tags of an ``aws_ebs_volume`` attached with ``aws_volume_attachment`` (the state
  volume) fight, so a real account would never get a clean plan.
- Firehose keeps retrying OpenSearch through a first deploy's window: the ingester sends while Terraform still
  applies, and OpenSearch refuses Firehose until `make opensearch-setup` maps its role.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from typing import Any

import boto3
import pytest

from tests.support.net import QuietHandler, in_background
from tests.support.terraform import (
    MOTO_CREDENTIALS,
    ROOT_ENDPOINT_SERVICES,
    Terraform,
    moto_provider_override,
    moto_root,
    require_terraform,
    reset_moto,
    write_case_tfvars,
)

pytestmark = [pytest.mark.terraform, pytest.mark.moto_server, pytest.mark.slow]

ACCOUNT = "123456789012"  # moto's account
SSO_PATH = "/aws-reserved/sso.amazonaws.com/"
SSO_ROLE = "AWSReservedSSO_Admin_0123456789abcdef"


@pytest.fixture(scope="module")
def root(moto_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Terraform]:
    require_terraform()
    reset_moto(moto_server)
    yield moto_root(moto_server, tmp_path_factory.mktemp("tf-trust-tags"))


def plan(tf: Terraform, **tfvars: Any) -> dict[str, Any]:
    """``terraform show -json`` of a plan of the whole root with these variables."""
    write_case_tfvars(tf, **tfvars)
    tf.run(["plan", "-no-color", "-input=false", "-lock=false", "-out=case.tfplan"], timeout=300)
    shown: dict[str, Any] = json.loads(tf.run(["show", "-json", "case.tfplan"]).stdout)
    return shown


def resources(shown: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Planned values by address, every module included."""
    found: dict[str, dict[str, Any]] = {}

    def walk(module: dict[str, Any]) -> None:
        for resource in module.get("resources", []):
            found[resource["address"]] = resource.get("values", {})
        for child in module.get("child_modules", []):
            walk(child)

    walk(shown["planned_values"]["root_module"])
    return found


def admin_trust(shown: dict[str, Any]) -> list[dict[str, Any]]:
    role = resources(shown)["module.opensearch.aws_iam_role.admin"]
    statements: list[dict[str, Any]] = json.loads(role["assume_role_policy"])["Statement"]
    return statements


def principals(statement: dict[str, Any]) -> list[str]:
    value = statement["Principal"]["AWS"]
    return [value] if isinstance(value, str) else list(value)


@pytest.fixture(scope="module")
def default_plan(root: Terraform) -> dict[str, Any]:
    return plan(root)


def test_admin_role_trusts_the_deployer_not_the_account(default_plan: dict[str, Any], moto_server: str) -> None:
    caller = boto3.client("sts", endpoint_url=moto_server, **MOTO_CREDENTIALS).get_caller_identity()["Arn"]
    (statement,) = admin_trust(default_plan)
    assert statement["Action"] == "sts:AssumeRole"
    assert principals(statement) == [caller]
    assert not [p for p in principals(statement) if p.endswith(":root")]


def test_admin_role_trusts_exactly_the_listed_principals(root: Terraform) -> None:
    listed = [f"arn:aws:iam::{ACCOUNT}:role/platform-admins", f"arn:aws:iam::{ACCOUNT}:user/alice"]
    (statement,) = admin_trust(plan(root, opensearch_admin_principal_arns=listed))
    assert sorted(principals(statement)) == sorted(listed)


def test_an_sso_session_is_trusted_as_its_role_with_the_path(root: Terraform, moto_server: str) -> None:
    # Given Terraform runs in an IAM Identity Center session (an assumed role under /aws-reserved/...)
    iam = boto3.client("iam", endpoint_url=moto_server, **MOTO_CREDENTIALS)
    account = {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": account, "Action": "sts:AssumeRole"}],
    }
    role = iam.create_role(RoleName=SSO_ROLE, Path=SSO_PATH, AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    sts = boto3.client("sts", endpoint_url=moto_server, **MOTO_CREDENTIALS)
    session = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="alice@example.com")["Credentials"]
    override = root.workdir / "session_override.tf"
    override.write_text(
        'provider "aws" {\n'
        f'  access_key = "{session["AccessKeyId"]}"\n'
        f'  secret_key = "{session["SecretAccessKey"]}"\n'
        f'  token      = "{session["SessionToken"]}"\n'
        "}\n",
        encoding="utf-8",
    )
    try:
        (statement,) = admin_trust(plan(root))
    finally:
        override.unlink()
    # Then the trust names the role with its path (what IAM accepts), not the session and not the account
    assert principals(statement) == [f"arn:aws:iam::{ACCOUNT}:role{SSO_PATH}{SSO_ROLE}"]


def test_volume_tags_are_not_used_so_the_state_volume_keeps_its_own(default_plan: dict[str, Any]) -> None:
    planned = resources(default_plan)
    instance = planned["module.ingester.aws_instance.this"]
    assert not instance.get("volume_tags"), "volume_tags would retag the attached state volume on every apply"
    (root_volume,) = instance["root_block_device"]
    assert root_volume["tags"]["Name"] == instance["tags"]["Name"]
    state = planned["module.ingester.aws_ebs_volume.state[0]"]
    assert state["tags"]["Name"] == f"{instance['tags']['Name']}-state"
    assert "module.ingester.aws_volume_attachment.state[0]" in planned


def test_the_admin_role_may_pass_the_alert_role_to_opensearch_only(default_plan: dict[str, Any]) -> None:
    # The policy's JSON names the alert role's ARN, known only after apply (the moto cycle reads it from the state);
    # the plan shows the grant exists with monitoring on, and the configuration's condition.
    assert "module.opensearch.aws_iam_role_policy.admin_pass_role[0]" in resources(default_plan)
    config = default_plan["configuration"]["root_module"]["module_calls"]["opensearch"]["module"]
    (document,) = [r for r in config["resources"] if r["address"] == "data.aws_iam_policy_document.admin_pass_role"]
    (statement,) = document["expressions"]["statement"]
    assert statement["actions"]["constant_value"] == ["iam:PassRole"]
    (condition,) = statement["condition"]
    assert condition["variable"]["constant_value"] == "iam:PassedToService"
    assert condition["values"]["constant_value"] == ["es.amazonaws.com"]


def test_no_pass_role_grant_without_monitoring(root: Terraform) -> None:
    planned = resources(plan(root, monitoring_enabled=False))
    assert not [a for a in planned if "admin_pass_role" in a]


def test_firehose_retries_opensearch_through_the_first_deploy(default_plan: dict[str, Any]) -> None:
    (stream,) = [
        v for a, v in resources(default_plan).items() if a.endswith("aws_kinesis_firehose_delivery_stream.this")
    ]
    (destination,) = stream["opensearch_configuration"]
    assert destination["retry_duration"] == 3600  # seconds: an hour, of Firehose's 0-7200


ROOT_IDENTITY = (
    '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>'
    f"<Arn>arn:aws:iam::{ACCOUNT}:root</Arn><UserId>{ACCOUNT}</UserId><Account>{ACCOUNT}</Account>"
    "</GetCallerIdentityResult><ResponseMetadata><RequestId>root</RequestId></ResponseMetadata>"
    "</GetCallerIdentityResponse>"
)


class RootCallerSTS(QuietHandler):
    """STS as the account's root user sees it: every call is GetCallerIdentity, answered with the root ARN."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.reply(200, ROOT_IDENTITY.encode(), "text/xml")


def test_applying_as_the_root_user_with_no_admins_listed_is_refused(root: Terraform, moto_server: str) -> None:
    # Given Terraform runs with the account's root user's keys (moto has no root user: STS is a stand-in; an
    # override file replaces the whole endpoints block, so every other service still points at moto)
    server = ThreadingHTTPServer(("127.0.0.1", 0), RootCallerSTS)
    override = root.workdir / "sts_override.tf"
    others = [service for service in ROOT_ENDPOINT_SERVICES if service != "sts"]
    text = moto_provider_override(moto_server, others).replace(
        "  endpoints {\n", f'  endpoints {{\n    sts = "http://127.0.0.1:{server.server_port}"\n'
    )
    override.write_text(text, encoding="utf-8")
    try:
        with in_background(server.serve_forever, server.shutdown):
            write_case_tfvars(root)
            refused = root.run(["plan", "-no-color", "-input=false", "-lock=false"], ok=(1,), timeout=300)
            write_case_tfvars(root, opensearch_admin_principal_arns=[f"arn:aws:iam::{ACCOUNT}:role/platform-admins"])
            listed = root.run(["plan", "-no-color", "-input=false", "-lock=false"], ok=(0, 1), timeout=300)
    finally:
        override.unlink()
        server.server_close()
    # Then the plan stops with the precondition's message: the default would trust the whole account
    out = " ".join((refused.stdout + refused.stderr).split())
    assert "Terraform runs as the account's root user, so by default the OpenSearch admin role would trust" in out
    assert "set opensearch_admin_principal_arns" in out
    # and naming the administrators lets it through
    assert "account's root user" not in listed.stdout + listed.stderr, listed.stderr[-3000:]
    assert listed.returncode == 0, listed.stderr[-3000:]
