"""The transform role gets exactly the Comprehend actions its settings call, none else.

The lambda module owns the function's role (``modules/lambda/iam.tf``) and derives its Comprehend grant from its own
``sentiment`` settings: ``backend``, ``fallback`` and ``comprehend_enrichments``. The module is planned on its
own (a copy as a root, provider pointed at the moto server), and the planned policy is read from ``terraform show
-json`` and linted with parliament like the whole stack's. Plans cost CI time: four cover every action, its absence
with the default settings, and the fallback's grant; the parliament check reuses the last of them.
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

HOLDER = "aws_iam_role_policy.comprehend[0].policy"
SENTIMENT = "comprehend:BatchDetectSentiment"
ENTITIES = "comprehend:BatchDetectEntities"
KEY_PHRASES = "comprehend:BatchDetectKeyPhrases"


def moto_root(work: Path, module: str, moto_server: str, services: tuple[str, ...]) -> tf_support.Terraform:
    """A copy of ``module`` as a root whose provider talks to the moto server; initialised (skips without terraform)."""
    tf_support.require_terraform()
    copy = work / module
    shutil.copytree(tf_support.MODULES_DIR / module, copy, ignore=shutil.ignore_patterns(".terraform*"))
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


@pytest.fixture(scope="module")
def lambda_module(moto_server: str, tmp_path_factory: pytest.TempPathFactory) -> tf_support.Terraform:
    tf = moto_root(tmp_path_factory.mktemp("tf-lambda"), "lambda", moto_server, ("iam", "lambda", "logs", "sts"))
    (tf.workdir / "t.zip").write_bytes(b"placeholder: only its hash is read at plan time")
    return tf


def lambda_inputs(tf: tf_support.Terraform, **sentiment: Any) -> dict[str, Any]:
    """The module's inputs: a function named t and these ``sentiment`` settings (the module's defaults for the rest)."""
    return {"function": {"name": "t", "zip_path": str(tf.workdir / "t.zip")}, "sentiment": sentiment}


PLANS: dict[str, dict[str, Any]] = {}  # the plans made so far, by their inputs: a second test reuses one


def plan_json(tf: tf_support.Terraform, tfvars: dict[str, Any]) -> dict[str, Any]:
    """``terraform show -json`` of a plan with ``tfvars`` (made once per distinct tfvars)."""
    key = json.dumps(tfvars, sort_keys=True)
    if key not in PLANS:
        (tf.workdir / "test.auto.tfvars.json").write_text(json.dumps(tfvars))
        tf.run(["plan", "-refresh=false", "-input=false", "-no-color", "-out=plan.bin"])
        PLANS[key] = json.loads(tf.run(["show", "-json", "plan.bin"]).stdout)
    return PLANS[key]


def comprehend_documents(plan: dict[str, Any]) -> list[iam_lint.PolicyDocument]:
    return [d for d in iam_lint.policy_documents(plan["planned_values"]["root_module"]) if HOLDER in d.holders]


def granted_actions(plan: dict[str, Any]) -> list[str]:
    """The Comprehend actions of the planned role policy; [] when the plan has no such policy."""
    documents = comprehend_documents(plan)
    if not documents:
        return []
    (document,) = documents
    statements = document.policy["Statement"]
    assert all(s["Resource"] == "*" and s["Effect"] == "Allow" for s in statements)
    return sorted(a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))


def function_environment(plan: dict[str, Any]) -> dict[str, str]:
    (function,) = [r for r in plan["planned_values"]["root_module"]["resources"] if r["type"] == "aws_lambda_function"]
    env: dict[str, str] = function["values"]["environment"][0]["variables"]
    return env


ALL_ON = {"backend": "comprehend", "fallback": "comprehend", "comprehend_enrichments": ["key_phrases", "entities"]}


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        # The defaults (embedded backend, fallback none, no enrichment): no Comprehend policy at all.
        ({}, []),
        ({"backend": "comprehend"}, [SENTIMENT]),
        # The fallback alone grants BatchDetectSentiment; vader takes the embedded branch (only comprehend calls it).
        ({"fallback": "comprehend", "comprehend_enrichments": ["entities"]}, [ENTITIES, SENTIMENT]),
        # Backend and fallback both on: the action once; key_phrases and entities: both enrichments' actions.
        (ALL_ON, [ENTITIES, KEY_PHRASES, SENTIMENT]),
    ],
    ids=["defaults", "comprehend-backend", "fallback-and-entities", "all-on"],
)
def test_the_role_gets_exactly_the_comprehend_actions_the_settings_call(
    lambda_module: tf_support.Terraform, settings: dict[str, Any], expected: list[str]
) -> None:
    # Given the function's settings, when the lambda module is planned
    plan = plan_json(lambda_module, lambda_inputs(lambda_module, **settings))
    # Then its role's Comprehend policy holds exactly the calls those settings make (and does not exist without any)
    assert granted_actions(plan) == expected
    # and the function is told the same settings
    env = function_environment(plan)
    assert env["SENTIMENT_BACKEND"] == settings.get("backend", "embedded")
    assert env["SENTIMENT_FALLBACK"] == settings.get("fallback", "none")
    assert env["ENRICHMENTS"] == ",".join(settings.get("comprehend_enrichments", []))


def test_the_comprehend_policy_passes_parliament(lambda_module: tf_support.Terraform) -> None:
    binary = iam_lint.parliament_binary()
    if binary is None:
        pytest.skip("parliament not installed (make test installs it in .venv-parliament and sets PARLIAMENT_BIN)")
    documents = comprehend_documents(plan_json(lambda_module, lambda_inputs(lambda_module, **ALL_ON)))
    assert len(documents) == 1
    allow = iam_lint.load_allow_list()
    findings = [f for f in iam_lint.run_parliament(binary, documents) if not iam_lint.is_suppressed(f, allow)]
    assert not findings, findings


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"comprehend_enrichments": ["pii"]}, "sentiment.comprehend_enrichments may hold entities and key_phrases,"),
        ({"comprehend_enrichments": ["entities", "entities"]}, "sentiment.comprehend_enrichments may hold entities"),
        ({"fallback": "vader"}, "sentiment.fallback must be none or comprehend."),
        ({"backend": "textblob"}, "sentiment.backend must be embedded, vader or comprehend."),
    ],
)
def test_unknown_settings_are_refused_at_plan_time(
    lambda_module: tf_support.Terraform, settings: dict[str, Any], message: str
) -> None:
    (lambda_module.workdir / "test.auto.tfvars.json").write_text(json.dumps(lambda_inputs(lambda_module, **settings)))
    result = lambda_module.run(["plan", "-refresh=false", "-input=false", "-no-color"], ok=(1,))
    assert message in " ".join(result.stderr.split())
