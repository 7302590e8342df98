"""The OpenSearch module's network exposure and log resource policy, from real plans of the module.

The module is planned on its own (as a root) with its provider pointed at the moto server, which answers the
data sources (caller identity, the generated password); nothing is created. The access policy is known at plan
time, so the tests read the exact JSON the domain would get.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.support.terraform import MODULES_DIR, Terraform, require_terraform, write_cli_config

pytestmark = [pytest.mark.terraform, pytest.mark.moto_server]

ACCOUNT = "123456789012"  # moto's account
DOMAIN_ARN = f"arn:aws:es:us-east-1:{ACCOUNT}:domain/tweets"
WRITER = f"arn:aws:iam::{ACCOUNT}:role/tweets-firehose"
PUBLIC = {"allowed_cidrs": ["198.51.100.7/32"]}
VPC = {"subnet_ids": ["subnet-0123456789abcdef0"], "security_group_ids": ["sg-0123456789abcdef0"]}
HTTP_ACTIONS = {f"es:ESHttp{verb}" for verb in ("Delete", "Get", "Head", "Patch", "Post", "Put")}


@pytest.fixture(scope="module")
def module_root(moto_server: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    require_terraform()
    work = tmp_path_factory.mktemp("tf-opensearch-access")
    root = work / "opensearch"
    shutil.copytree(MODULES_DIR / "opensearch", root, ignore=shutil.ignore_patterns(".terraform*"))
    services = ("es", "iam", "logs", "opensearch", "secretsmanager", "sts")
    endpoints = "\n".join(f'    {s} = "{moto_server}"' for s in services)
    (root / "provider_test.tf").write_text(
        'provider "aws" {\n  region = "us-east-1"\n  access_key = "testing"\n  secret_key = "testing"\n'
        "  skip_credentials_validation = true\n  skip_metadata_api_check = true\n"
        f"  endpoints {{\n{endpoints}\n  }}\n}}\n"
    )
    cli = write_cli_config(work / "cli")
    Terraform(root, cli).run(["init", "-backend=false", "-no-color", "-input=false"])
    return root, cli


def plan(module_root: tuple[Path, Path], tfvars: dict[str, Any], *, ok: tuple[int, ...] = (0,)) -> dict[str, Any]:
    """``terraform show -json`` of a plan with these variables; {"error": text} when the plan fails."""
    root, cli = module_root
    tf = Terraform(root, cli)
    var_file = root / "test.auto.tfvars.json"
    var_file.write_text(json.dumps({"domain_name": "tweets", **tfvars}))
    try:
        result = tf.run(["plan", "-input=false", "-no-color", "-out=test.tfplan"], ok=ok)
        if result.returncode != 0:
            return {"error": " ".join(result.stderr.split())}
        shown: dict[str, Any] = json.loads(tf.run(["show", "-json", "test.tfplan"]).stdout)
        return shown
    finally:
        var_file.unlink()
        (root / "test.tfplan").unlink(missing_ok=True)


def planned(shown: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [r["values"] for r in shown["planned_values"]["root_module"]["resources"] if r["type"] == resource_type]


def access_statements(shown: dict[str, Any]) -> list[dict[str, Any]]:
    (policy,) = planned(shown, "aws_opensearch_domain_policy")
    document = json.loads(policy["access_policies"])
    statements = document["Statement"]
    for statement in statements:
        assert statement["Effect"] == "Allow"
        assert set(as_list(statement["Action"])) == HTTP_ACTIONS
        assert as_list(statement["Resource"]) == [f"{DOMAIN_ARN}/*"]
    return list(statements)


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def test_public_domain_admits_only_the_listed_sources_and_the_writer_role(module_root: tuple[Path, Path]) -> None:
    # Given a public domain with one allowed address and the Firehose role
    shown = plan(module_root, {"endpoint": PUBLIC, "roles": {"writer_arns": [WRITER]}})
    statements = {s["Sid"]: s for s in access_statements(shown)}
    # Then anyone is admitted only from that address, and the writer role from anywhere (it signs from AWS)
    assert set(statements) == {"HttpFromAllowedSources", "HttpFromWriterRoles"}
    sources = statements["HttpFromAllowedSources"]
    assert sources["Principal"] == {"AWS": "*"}
    assert as_list(sources["Condition"]["IpAddress"]["aws:SourceIp"]) == ["198.51.100.7/32"]
    assert set(sources["Condition"]) == {"IpAddress"}
    writer = statements["HttpFromWriterRoles"]
    assert as_list(writer["Principal"]["AWS"]) == [WRITER]
    assert "Condition" not in writer


def test_vpc_domain_has_no_ip_condition(module_root: tuple[Path, Path]) -> None:
    # A VPC domain takes no IP-based policy (its security groups decide); fine-grained access control authenticates.
    shown = plan(module_root, {"endpoint": {"vpc": VPC}, "roles": {"writer_arns": [WRITER]}})
    (statement,) = access_statements(shown)
    assert statement["Sid"] == "HttpInsideTheVpc"
    assert statement["Principal"] == {"AWS": "*"}
    assert "Condition" not in statement


@pytest.mark.parametrize(
    ("tfvars", "message"),
    [
        # The default: public and no list would be open to the internet.
        ({}, "endpoint.allowed_cidrs is empty and the domain is public (endpoint.vpc = null)"),
        ({"endpoint": {"allowed_cidrs": ["0.0.0.0/0"]}}, "narrower than the whole internet"),
        ({"endpoint": {"allowed_cidrs": ["::/0"]}}, "narrower than the whole internet"),
        ({"endpoint": {"allowed_cidrs": ["198.51.100.7"]}}, "must be a valid CIDR block"),
        ({"endpoint": {"allowed_cidrs": ["198.51.100.7/32"], "vpc": VPC}}, "must be empty for a domain in a VPC"),
        ({"endpoint": PUBLIC, "logs": {"resource_policy": "shared"}}, "create or existing"),
    ],
)
def test_exposure_and_log_policy_mistakes_are_refused(
    module_root: tuple[Path, Path], tfvars: dict[str, Any], message: str
) -> None:
    shown = plan(module_root, tfvars, ok=(1,))
    assert message in shown["error"]


@pytest.mark.parametrize(("mode", "count"), [("create", 1), ("existing", 0)])
def test_log_resource_policy_is_created_or_left_to_the_account(
    module_root: tuple[Path, Path], mode: str, count: int
) -> None:
    shown = plan(module_root, {"endpoint": PUBLIC, "logs": {"resource_policy": mode}})
    policies = planned(shown, "aws_cloudwatch_log_resource_policy")
    assert len(policies) == count
    # The domain publishes the same logs either way.
    (domain,) = planned(shown, "aws_opensearch_domain")
    assert {o["log_type"] for o in domain["log_publishing_options"]} == {
        "ES_APPLICATION_LOGS",
        "INDEX_SLOW_LOGS",
        "SEARCH_SLOW_LOGS",
    }
    if count:
        groups = {g["name"] for g in planned(shown, "aws_cloudwatch_log_group")}
        assert groups == {f"/aws/OpenSearchService/domains/tweets/{t.lower()}" for t in ("es_application_logs",
                          "index_slow_logs", "search_slow_logs")}  # fmt: skip


def test_readme_shared_log_policy_covers_every_domain_log_group() -> None:
    # The account-wide policy the README tells users to create for logs.resource_policy = "existing" must let
    # es.amazonaws.com do what the module's own policy allows, on every log group the module creates.
    import fnmatch
    import re

    from tests.support.paths import REPO_ROOT

    readme = (REPO_ROOT / "docs" / "deploy.md").read_text()
    block = readme.split("<!-- shared-log-policy -->", 1)[1].split("```bash\n", 1)[1].split("\n```", 1)[0]
    document = block.split("--policy-document '", 1)[1].rsplit("'", 1)[0]
    region, account = "eu-west-1", ACCOUNT
    document = document.replace("'\"$REGION\"'", region).replace("'\"$ACCOUNT\"'", account)
    (statement,) = json.loads(document)["Statement"]
    main = (MODULES_DIR / "opensearch" / "main.tf").read_text()
    # the module's own log-publishing statement (local.service_for_this_domain in iam.tf)
    module_actions = re.search(r'actions\s*=\s*(\["logs:[^\]]*\])', (MODULES_DIR / "opensearch" / "iam.tf").read_text())
    assert module_actions is not None
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "es.amazonaws.com"}
    assert sorted(statement["Action"]) == sorted(json.loads(module_actions.group(1)))
    name = re.search(r'name\s*=\s*"(/aws/OpenSearchService/domains/)\$\{var\.domain_name\}/', main)
    assert name is not None
    for log_type in ("es_application_logs", "index_slow_logs", "search_slow_logs", "audit_logs"):
        group = f"arn:aws:logs:{region}:{account}:log-group:{name.group(1)}tweets/{log_type}"
        assert fnmatch.fnmatchcase(f"{group}:*", statement["Resource"]), (group, statement["Resource"])
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": account}
    assert statement["Condition"]["ArnLike"] == {"aws:SourceArn": f"arn:aws:es:{region}:{account}:domain/*"}
