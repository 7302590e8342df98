"""The transform role gets the Comprehend enrichment actions only when ``comprehend_enrichments`` turns them on.

The iam module is planned on its own (a copy as a root, provider pointed at the moto server for the caller identity);
the planned transform policy is read from ``terraform show -json`` and linted with parliament like the whole stack's.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.iam_lint import (
    is_suppressed,
    load_allow_list,
    parliament_binary,
    policy_documents,
    run_parliament,
)
from tests.support.terraform import (
    TERRAFORM_DIR,
    Terraform,
    moto_provider_override,
    unavailable_reason,
    write_cli_config,
)

pytestmark = [pytest.mark.terraform, pytest.mark.moto_server, pytest.mark.slow]

HOLDER = "aws_iam_role_policy.transform_comprehend.policy"
INPUTS = {
    "name_prefix": "tweet-sentiment",
    "backup_bucket_arn": "arn:aws:s3:::tweet-sentiment-backup",
    "opensearch_domain_arn": "arn:aws:es:us-east-1:123456789012:domain/tweets",
    "delivery_stream_name": "tweet-sentiment",
    "firehose_log_group_name": "/aws/kinesisfirehose/tweet-sentiment",
    "transform_function_name": "tweet-sentiment-transform",
    "ingester_metrics_namespace": "TweetIngester",
    "ingester_ssm_parameter_names": ["/tweet-sentiment/x-bearer-token"],
    "ingester_bundle_object_arn": "arn:aws:s3:::tweet-sentiment-artifacts/ingester.tar.gz",
}


@pytest.fixture(scope="module")
def iam_root(moto_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Terraform]:
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    work = tmp_path_factory.mktemp("tf-iam")
    copy = work / "iam"
    shutil.copytree(TERRAFORM_DIR / "modules" / "iam", copy, ignore=shutil.ignore_patterns(".terraform*"))
    # the module has no provider block of its own (the root's is inherited), so this is a plain file, not an override
    (copy / "moto_provider.tf").write_text(
        moto_provider_override(moto_server, ("iam", "sts")).replace(
            'provider "aws" {\n', 'provider "aws" {\n  region                      = "us-east-1"\n', 1
        ),
        encoding="utf-8",
    )
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_EC2_METADATA_DISABLED": "true"}
    tf = Terraform(copy, write_cli_config(work / "cli"), env)
    tf.run(["init", "-no-color", "-input=false", "-backend=false"])
    yield tf


def planned(tf: Terraform, enrichments: list[str]) -> dict[str, Any]:
    """``terraform show -json`` of a plan with ``comprehend_enrichments = enrichments``."""
    (tf.workdir / "test.auto.tfvars.json").write_text(json.dumps({**INPUTS, "comprehend_enrichments": enrichments}))
    tf.run(["plan", "-refresh=false", "-input=false", "-no-color", "-out=plan.bin"])
    plan: dict[str, Any] = json.loads(tf.run(["show", "-json", "plan.bin"]).stdout)
    return plan


def transform_comprehend_actions(plan: dict[str, Any]) -> list[str]:
    (document,) = [d for d in policy_documents(plan["planned_values"]["root_module"]) if HOLDER in d.holders]
    statements = document.policy["Statement"]
    assert all(s["Resource"] == "*" and s["Effect"] == "Allow" for s in statements)
    return sorted(a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))


@pytest.mark.parametrize(
    ("enrichments", "extra"),
    [
        ([], []),
        (["key_phrases"], ["comprehend:BatchDetectKeyPhrases"]),
        (["entities"], ["comprehend:BatchDetectEntities"]),
        (["key_phrases", "entities"], ["comprehend:BatchDetectEntities", "comprehend:BatchDetectKeyPhrases"]),
    ],
)
def test_the_role_gets_exactly_the_enabled_enrichment_actions(
    iam_root: Terraform, enrichments: list[str], extra: list[str]
) -> None:
    assert transform_comprehend_actions(planned(iam_root, enrichments)) == sorted(
        ["comprehend:BatchDetectSentiment", *extra]
    )


def test_the_enriched_policy_passes_parliament(iam_root: Terraform) -> None:
    binary = parliament_binary()
    if binary is None:
        pytest.skip("parliament not installed (make test installs it in .venv-parliament and sets PARLIAMENT_BIN)")
    documents = [
        d
        for d in policy_documents(planned(iam_root, ["entities", "key_phrases"])["planned_values"]["root_module"])
        if HOLDER in d.holders
    ]
    findings = [f for f in run_parliament(binary, documents) if not is_suppressed(f, load_allow_list())]
    assert not findings, findings


@pytest.mark.parametrize("enrichments", [["pii"], ["entities", "entities"]])
def test_unknown_or_repeated_enrichments_are_refused_at_plan_time(iam_root: Terraform, enrichments: list[str]) -> None:
    (iam_root.workdir / "test.auto.tfvars.json").write_text(
        json.dumps({**INPUTS, "comprehend_enrichments": enrichments})
    )
    result = iam_root.run(["plan", "-refresh=false", "-input=false", "-no-color"], ok=(1,))
    assert "comprehend_enrichments may hold entities and key_phrases, each at most once" in " ".join(
        result.stderr.split()
    )
