"""Plan-time refusals against moto: the stack says what to set instead of failing at apply or at boot.

Each case plans the unchanged production root (a temporary copy with the moto provider override) in an
emulated account that lacks something a real account may lack, and checks terraform's own error message.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tests.support.terraform import (
    MOTO_CREDENTIALS,
    Terraform,
    moto_root,
    require_terraform,
    reset_moto,
    write_case_tfvars,
)

pytestmark = [pytest.mark.terraform, pytest.mark.moto_server, pytest.mark.slow]


@pytest.fixture(scope="module")
def root(moto_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Terraform]:
    require_terraform()
    yield moto_root(moto_server, tmp_path_factory.mktemp("tf-preconditions"))


def plan(tf: Terraform, moto_server: str, **tfvars: Any) -> str:
    """Plan in a freshly reset emulated account; returns terraform's combined output (the plan must fail)."""
    write_case_tfvars(tf, **tfvars)
    result = tf.run(["plan", "-no-color", "-input=false", "-lock=false"], ok=(1,), timeout=300)
    return " ".join((result.stdout + result.stderr).split())


def reset(moto_server: str) -> Any:
    reset_moto(moto_server)
    return boto3.client("ec2", endpoint_url=moto_server, **MOTO_CREDENTIALS)


def test_no_default_vpc_and_no_subnet_names_the_setting(root: Terraform, moto_server: str) -> None:
    # Given an account whose default VPC was deleted (landing-zone accounts often have none)
    ec2 = reset(moto_server)
    (vpc,) = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
    for subnet in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["Subnets"]:
        ec2.delete_subnet(SubnetId=subnet["SubnetId"])
    ec2.delete_vpc(VpcId=vpc["VpcId"])
    # When the stack is planned without ingester_subnet_id
    out = plan(root, moto_server)
    # Then terraform refuses with the precondition's message, not the provider's "no matching EC2 VPC found"
    assert "No default VPC in us-east-1" in out, out[-3000:]
    assert "set ingester_subnet_id" in out
    assert "no matching EC2 VPC" not in out


@pytest.mark.parametrize(
    ("tfvars", "expected"),
    [
        ({"ingester_instance_type": "t3.small"}, "instance_type t3.small runs x86_64, not arm64"),
        ({"ingester_architecture": "x86_64"}, "instance_type t4g.small runs arm64, not x86_64"),
    ],
    ids=["x86-type-with-arm64-default", "x86_64-with-graviton-default-type"],
)
def test_instance_type_must_run_the_architecture(
    root: Terraform, moto_server: str, tfvars: dict[str, str], expected: str
) -> None:
    # Given a normal account, when the instance type and the architecture disagree
    reset(moto_server)
    out = plan(root, moto_server, **tfvars)
    # Then the plan fails before anything is created (it used to apply cleanly and fail at boot)
    assert expected in out, out[-3000:]
