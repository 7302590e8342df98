"""The transform role gets exactly the Comprehend actions its backend and ``comprehend_enrichments`` call, none else.

The lambda module maps the backend and the enrichments to their actions (its output ``comprehend_actions``, evaluated
with ``terraform console``); the iam module, planned on its own (a copy as a root, provider pointed at the moto server
for the caller identity), grants them: the planned transform policy is read from ``terraform show -json`` and linted
with parliament like the whole stack's.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.support import iam_lint
from tests.support import terraform as tf_support

pytestmark = [pytest.mark.slow, pytest.mark.terraform, pytest.mark.moto_server]

HOLDER = "aws_iam_role_policy.transform_comprehend[0].policy"
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


def module_copy(work: Path, module: str) -> Path:
    copy = work / module
    shutil.copytree(tf_support.TERRAFORM_DIR / "modules" / module, copy, ignore=shutil.ignore_patterns(".terraform*"))
    return copy


def moto_root(work: Path, module: str, moto_server: str, services: tuple[str, ...]) -> tf_support.Terraform:
    """A copy of ``module`` as a root whose provider talks to the moto server; initialised (skips without terraform)."""
    reason = tf_support.unavailable_reason()
    if reason:
        pytest.skip(reason)
    copy = module_copy(work, module)
    # a module has no provider block of its own (the root's is inherited), so this is a plain file, not an override
    (copy / "moto_provider.tf").write_text(
        tf_support.moto_provider_override(moto_server, services).replace(
            'provider "aws" {\n', 'provider "aws" {\n  region                      = "us-east-1"\n', 1
        ),
        encoding="utf-8",
    )
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_EC2_METADATA_DISABLED": "true"}
    tf = tf_support.Terraform(copy, tf_support.write_cli_config(work / "cli"), env)
    tf.run(["init", "-no-color", "-input=false", "-backend=false"])
    return tf


def plan_json(tf: tf_support.Terraform, tfvars: dict[str, Any]) -> dict[str, Any]:
    """``terraform show -json`` of a plan with ``tfvars``."""
    (tf.workdir / "test.auto.tfvars.json").write_text(json.dumps(tfvars))
    tf.run(["plan", "-refresh=false", "-input=false", "-no-color", "-out=plan.bin"])
    plan: dict[str, Any] = json.loads(tf.run(["show", "-json", "plan.bin"]).stdout)
    return plan


@pytest.fixture(scope="module")
def lambda_module(moto_server: str, tmp_path_factory: pytest.TempPathFactory) -> tf_support.Terraform:
    tf = moto_root(tmp_path_factory.mktemp("tf-lambda"), "lambda", moto_server, ("lambda", "logs", "sts"))
    (tf.workdir / "t.zip").write_bytes(b"placeholder: only its hash is read at plan time")
    return tf


def lambda_inputs(tf: tf_support.Terraform, enrichments: list[str], backend: str = "embedded") -> dict[str, Any]:
    return {"function_name": "t", "role_arn": "arn:aws:iam::123456789012:role/t", "sentiment_backend": backend,
            "zip_path": str(tf.workdir / "t.zip"), "comprehend_enrichments": enrichments}  # fmt: skip


def comprehend_actions(tf: tf_support.Terraform, enrichments: list[str], backend: str) -> list[str]:
    """The lambda module's planned output ``comprehend_actions`` for ``backend`` and ``enrichments``."""
    plan = plan_json(tf, lambda_inputs(tf, enrichments, backend))
    actions: list[str] = plan["planned_values"]["outputs"]["comprehend_actions"]["value"]
    (function,) = [r for r in plan["planned_values"]["root_module"]["resources"] if r["type"] == "aws_lambda_function"]
    assert function["values"]["environment"][0]["variables"]["ENRICHMENTS"] == ",".join(enrichments)
    return actions


@pytest.fixture(scope="module")
def iam_root(moto_server: str, tmp_path_factory: pytest.TempPathFactory) -> tf_support.Terraform:
    return moto_root(tmp_path_factory.mktemp("tf-iam"), "iam", moto_server, ("iam", "sts"))


def planned(tf: tf_support.Terraform, actions: list[str]) -> dict[str, Any]:
    return plan_json(tf, {**INPUTS, "transform_comprehend_actions": actions})


def transform_comprehend_actions(plan: dict[str, Any]) -> list[str]:
    documents = [d for d in iam_lint.policy_documents(plan["planned_values"]["root_module"]) if HOLDER in d.holders]
    if not documents:
        return []
    (document,) = documents
    statements = document.policy["Statement"]
    assert all(s["Resource"] == "*" and s["Effect"] == "Allow" for s in statements)
    return sorted(a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))


@pytest.mark.parametrize(
    ("backend", "enrichments", "expected"),
    [
        # vader takes the embedded branch (only comprehend calls BatchDetectSentiment); key_phrases alone is the
        # entities case's other key, and both are in the last case: four plans cover every action and its absence
        ("embedded", [], []),
        ("comprehend", [], ["comprehend:BatchDetectSentiment"]),
        ("embedded", ["entities"], ["comprehend:BatchDetectEntities"]),
        (
            "comprehend",
            ["key_phrases", "entities"],
            ["comprehend:BatchDetectEntities", "comprehend:BatchDetectKeyPhrases", "comprehend:BatchDetectSentiment"],
        ),
    ],
)
def test_the_role_gets_exactly_the_comprehend_actions_the_function_calls(
    lambda_module: tf_support.Terraform,
    iam_root: tf_support.Terraform,
    backend: str,
    enrichments: list[str],
    expected: list[str],
) -> None:
    # Given the actions the lambda module says its backend and enrichments call, when the iam module grants them
    actions = comprehend_actions(lambda_module, enrichments, backend)
    assert actions == expected
    # Then the transform's Comprehend policy holds exactly those (and does not exist without any)
    assert transform_comprehend_actions(planned(iam_root, actions)) == expected


def test_the_enriched_policy_passes_parliament(iam_root: tf_support.Terraform) -> None:
    binary = iam_lint.parliament_binary()
    if binary is None:
        pytest.skip("parliament not installed (make test installs it in .venv-parliament and sets PARLIAMENT_BIN)")
    documents = [
        d
        for d in iam_lint.policy_documents(
            planned(iam_root, ["comprehend:BatchDetectEntities", "comprehend:BatchDetectKeyPhrases"])["planned_values"][
                "root_module"
            ]
        )
        if HOLDER in d.holders
    ]
    allow = iam_lint.load_allow_list()
    findings = [f for f in iam_lint.run_parliament(binary, documents) if not iam_lint.is_suppressed(f, allow)]
    assert not findings, findings


@pytest.mark.parametrize("enrichments", [["pii"], ["entities", "entities"]])
def test_unknown_or_repeated_enrichments_are_refused_at_plan_time(
    lambda_module: tf_support.Terraform, enrichments: list[str]
) -> None:
    (lambda_module.workdir / "test.auto.tfvars.json").write_text(json.dumps(lambda_inputs(lambda_module, enrichments)))
    result = lambda_module.run(["plan", "-refresh=false", "-input=false", "-no-color"], ok=(1,))
    assert "comprehend_enrichments may hold entities and key_phrases, each at most once" in " ".join(
        result.stderr.split()
    )


def test_the_iam_module_refuses_any_other_action(iam_root: tf_support.Terraform) -> None:
    (iam_root.workdir / "test.auto.tfvars.json").write_text(
        json.dumps({**INPUTS, "transform_comprehend_actions": ["comprehend:*"]})
    )
    result = iam_root.run(["plan", "-refresh=false", "-input=false", "-no-color"], ok=(1,))
    assert "may hold only comprehend:BatchDetectSentiment, comprehend:BatchDetectEntities and" in " ".join(
        result.stderr.split()
    )
