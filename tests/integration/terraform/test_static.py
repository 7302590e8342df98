"""terraform fmt and validate for the root and every module, the lock file, and variable validations."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.support.terraform import MODULES_DIR, TERRAFORM_DIR, Terraform

pytestmark = pytest.mark.terraform

MODULES = sorted(p.name for p in MODULES_DIR.iterdir() if p.is_dir())


def test_every_expected_module_exists() -> None:
    assert MODULES == ["firehose", "iam", "ingester", "lambda", "monitoring", "opensearch", "s3"]
    for module in MODULES:
        for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"):
            assert (MODULES_DIR / module / name).is_file(), f"modules/{module}/{name}"


def test_fmt_is_clean(terraform_copy: tuple[Path, Path]) -> None:
    root, cli = terraform_copy
    result = Terraform(root, cli).run(["fmt", "-check", "-recursive", "-diff", "-no-color"], ok=(0, 3))
    assert result.returncode == 0, f"terraform fmt -recursive terraform would change:\n{result.stdout}"


def test_root_validates_with_the_committed_lock_file(terraform_copy: tuple[Path, Path]) -> None:
    root, cli = terraform_copy
    tf = Terraform(root, cli)
    # -lockfile=readonly: the committed lock must already cover the mirror's package
    tf.run(["init", "-backend=false", "-no-color", "-input=false", "-lockfile=readonly"])
    result = json.loads(tf.run(["validate", "-json", "-no-color"]).stdout)
    assert result["valid"] is True, result["diagnostics"]
    assert result["warning_count"] == 0, result["diagnostics"]
    assert (root / ".terraform.lock.hcl").read_text() == (TERRAFORM_DIR / ".terraform.lock.hcl").read_text()


EXAMPLES = sorted(p.name for p in (TERRAFORM_DIR / "examples").iterdir() if p.is_dir())


@pytest.mark.parametrize("directory", [f"modules/{m}" for m in MODULES] + [f"examples/{e}" for e in EXAMPLES])
def test_module_and_example_validates(terraform_copy: tuple[Path, Path], directory: str) -> None:
    # a module on its own, and each example (a root calling the stack) after `terraform init` from the mirror
    root, cli = terraform_copy
    tf = Terraform(root / directory, cli)
    tf.init(backend=False)
    result = json.loads(tf.run(["validate", "-json", "-no-color"]).stdout)
    assert result["valid"] is True, result["diagnostics"]
    assert result["warning_count"] == 0, result["diagnostics"]


def test_only_the_aws_provider_is_required() -> None:
    text = "\n".join(p.read_text() for p in TERRAFORM_DIR.rglob("*.tf") if ".terraform" not in p.parts)
    sources = set(re.findall(r'source\s*=\s*"([a-z0-9-]+/[a-z0-9-]+)"', text))
    assert sources == {"hashicorp/aws"}
    root_versions = (TERRAFORM_DIR / "versions.tf").read_text()
    assert 'version = "~> 5.100"' in root_versions
    for module in MODULES:
        # 5.100 (tested) up to, not including, 7.0: the modules use nothing 6.x removes or deprecates
        assert 'version = ">= 5.100, < 7.0"' in (MODULES_DIR / module / "versions.tf").read_text(), module
        assert (MODULES_DIR / module / "versions.tf").resolve() == MODULES_DIR / "versions.tf", module


def tf_texts(directory: Path) -> dict[Path, str]:
    return {p: p.read_text() for p in directory.rglob("*.tf") if ".terraform" not in p.parts}


def test_nothing_reads_the_region_through_an_attribute_one_provider_line_lacks_or_deprecates() -> None:
    # aws_region.name (and .id) are deprecated in 6.x; aws_region.region does not exist in 5.100.
    assert [p for p, text in tf_texts(TERRAFORM_DIR).items() if re.search(r"data\.aws_region\.", text)] == []


def test_no_module_configures_a_provider() -> None:
    # Modules inherit the caller's provider (a module with its own provider block cannot be used with count,
    # for_each or depends_on, and removing it orphans its resources).
    assert [p for p, text in tf_texts(MODULES_DIR).items() if re.search(r'^provider "', text, flags=re.MULTILINE)] == []


def test_lock_file_pins_one_aws_version_for_every_platform() -> None:
    lock = (TERRAFORM_DIR / ".terraform.lock.hcl").read_text()
    assert lock.count('provider "registry.terraform.io/') == 1
    assert 'version     = "5.100.0"' in lock
    assert lock.count('"zh:') >= 14  # one per platform archive published in the registry
    assert '"h1:' in lock


UNREACHABLE = "http://127.0.0.1:9"  # connection refused at once: no AWS call can succeed or hang


FIREHOSE_REQUIRED: dict[str, Any] = {
    "name": "tweets",
    "role_arn": "arn:aws:iam::123456789012:role/firehose",
    "opensearch": {"domain_arn": "arn:aws:es:us-east-1:123456789012:domain/tweets"},
    "processor": {"lambda_arn": "arn:aws:lambda:us-east-1:123456789012:function:transform:$LATEST"},
    "backup": {"bucket_arn": "arn:aws:s3:::backup"},
}


def firehose_tfvars(**groups: dict[str, Any]) -> dict[str, Any]:
    """The firehose module's required inputs with these fields set in its object inputs (opensearch, processor...)."""
    return {name: {**value, **groups.get(name, {})} if isinstance(value, dict) else value
            for name, value in FIREHOSE_REQUIRED.items()}  # fmt: skip


@pytest.fixture(scope="module")
def offline_copy(terraform_copy: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A copy of terraform/ whose provider can reach nothing, for checks that must fail before any API call."""
    source, cli = terraform_copy
    root = tmp_path_factory.mktemp("tf-offline") / "terraform"
    shutil.copytree(source, root, ignore=shutil.ignore_patterns(".terraform"))
    services = ("cognitoidentity", "cognitoidp", "ec2", "es", "firehose", "iam", "lambda", "logs", "opensearch", "s3",
                "secretsmanager", "ssm", "sts")  # fmt: skip
    endpoints = "\n".join(f'    {s} = "{UNREACHABLE}"' for s in services)
    override = (
        'provider "aws" {\n  region = "us-east-1"\n  access_key = "testing"\n  secret_key = "testing"\n'
        "  max_retries = 1\n  skip_credentials_validation = true\n  skip_requesting_account_id = true\n"
        f"  skip_metadata_api_check = true\n  endpoints {{\n{endpoints}\n  }}\n}}\n"
    )
    (root / "offline_override.tf").write_text(override)
    # The firehose module planned on its own (as a root) in a separate copy, with the same provider.
    firehose = root.parent / "firehose"
    shutil.copytree(source / "modules" / "firehose", firehose, ignore=shutil.ignore_patterns(".terraform*"))
    (firehose / "offline_override.tf").write_text(override)
    for directory in (root, firehose):
        Terraform(directory, cli).run(["init", "-backend=false", "-no-color", "-input=false"])
    return root, cli


def offline_plan(directory: Path, cli: Path, tfvars: dict[str, object]) -> str:
    tf = Terraform(directory, cli)
    var_file = directory / "bad.auto.tfvars.json"
    var_file.write_text(json.dumps(tfvars))
    try:
        result = tf.run(["plan", "-refresh=false", "-input=false", "-no-color"], ok=(1,))
    finally:
        var_file.unlink()
    return " ".join(result.stderr.split())


@pytest.mark.parametrize(
    ("tfvars", "message"),
    [
        ({"name_prefix": "Tweet_Sentiment"}, "name_prefix must be 3-28 characters"),
        ({"ssh_allowed_cidrs": ["0.0.0.0/0"]}, "0.0.0.0/0 and ::/0 are refused"),
        # Validated once, by the module they go to: the root passes these through unvalidated.
        ({"opensearch_auto_tune_enabled": True}, "Auto-Tune is not supported on t2/t3"),
        ({"log_retention_days": 8}, "logging.retention_days must be one of"),
        ({"ingester_architecture": "sparc"}, "architecture must be arm64 or x86_64"),
        ({"x_bearer_token_key_deletion_days": 5}, "token_key_deletion_days must be a whole number of days from 7"),
        ({"lambda_reserved_concurrent_executions": -2}, "function.reserved_concurrent_executions must be -1"),
        ({"retention_days": 0}, "retention_days must be a whole number of days between 1 and 3650"),
        (
            {"opensearch_zone_awareness_enabled": True},
            "cluster.instance_count must be a multiple of cluster.availability_zone_count",
        ),
        (
            {
                "opensearch_vpc": {"subnet_ids": ["subnet-0123456789abcdef0"], "security_group_ids": ["sg-0123456789"]},
                "dashboards_allowed_cidrs": ["203.0.113.0/24"],
            },
            "endpoint.allowed_cidrs must be empty for a domain in a VPC",
        ),
        # The default: a public domain with no allow-list would be open to the internet.
        ({}, "dashboards_allowed_cidrs is empty, which would open the OpenSearch endpoint and Dashboards to the"),
        ({"dashboards_allowed_cidrs": ["0.0.0.0/0"]}, "narrower than the whole internet"),
        ({"dashboards_mfa_configuration": "REQUIRED"}, "auth.dashboards_mfa_configuration must be ON, OPTIONAL or OFF"),
        (
            {"opensearch_admin_principal_arns": ["arn:aws:iam::123456789012:group/Admins"]},
            "a role trust policy accepts no wildcards or groups",
        ),
        ({"dashboards_cognito_domain_prefix": "tweets-aws-login"}, "must not contain aws, amazon or cognito"),
        ({"lambda_timeout": 301}, "Firehose's 5-minute processor limit"),
        ({"tracked_terms": []}, "tracked_terms needs at least one"),
        ({"buffering_preset": "fast"}, "buffering_preset must be realtime or batch."),
        # ingester/config.py refuses any other level with exit 2, which systemd never restarts.
        ({"ingester_log_level": "TRACE"}, "log_level must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL (the"),
        ({"ingester_source": "mastodon"}, "ingester_source must be x, bluesky or both."),
        # Validated once, by the lambda module: the root passes these through unvalidated.
        ({"sentiment_backend": "textblob"}, "sentiment.backend must be embedded, vader or comprehend."),
        ({"sentiment_fallback": "vader"}, "sentiment.fallback must be none or comprehend."),
        # failed records hold post text: a deleted post's copy must be gone within the retention window
        ({"failed_records_expiration_days": 30}, "failed_records_expiration_days must be a whole number from 1 to"),
        ({"failed_records_expiration_days": 0}, "failed_records_expiration_days must be a whole number from 1 to"),
        ({"tombstone_days": 29}, "tombstone_days must be a whole number from retention_days to 3650"),
    ],
)
def test_bad_root_values_are_refused_at_plan_time(
    offline_copy: tuple[Path, Path], tfvars: dict[str, object], message: str
) -> None:
    # Given a value AWS would reject only at apply time (or never), when planning, then a validation
    # refuses it with a message that names the limit.
    root, cli = offline_copy
    assert message in offline_plan(root, cli, tfvars)


@pytest.mark.parametrize(
    ("tfvars", "message"),
    [
        (
            {"opensearch": {"buffering_interval": 901}},
            "opensearch.buffering_interval must be a whole number of seconds between 0 and 900 (Firehose limit)",
        ),
        ({"opensearch": {"buffering_size": 101}}, "between 1 and 100 (Firehose limit for OpenSearch destinations)"),
        ({"processor": {"buffer_size": 3.5}}, "processor.buffer_size must be between 0.2 and 3 MB"),
        ({"opensearch": {"index_rotation_period": "Daily"}}, "opensearch.index_rotation_period must be one of"),
        (
            {"processor": {"lambda_arn": "arn:aws:lambda:us-east-1:123456789012:function:transform"}},
            "processor.lambda_arn must be a qualified Lambda ARN",
        ),
    ],
)
def test_bad_firehose_values_are_refused_at_plan_time(
    offline_copy: tuple[Path, Path], tfvars: dict[str, dict[str, Any]], message: str
) -> None:
    root, cli = offline_copy
    assert message in offline_plan(root.parent / "firehose", cli, firehose_tfvars(**tfvars))


def test_valid_firehose_values_plan_without_error(offline_copy: tuple[Path, Path]) -> None:
    # The control case: the same offline plan with valid values succeeds, so the failures above are the
    # validations and not the harness.
    root, cli = offline_copy
    directory = root.parent / "firehose"
    tf = Terraform(directory, cli)
    var_file = directory / "good.auto.tfvars.json"
    var_file.write_text(
        json.dumps(firehose_tfvars(opensearch={"buffering_interval": 0}, processor={"buffer_size": 0.2}))
    )
    try:
        tf.run(["plan", "-refresh=false", "-input=false", "-no-color"])
    finally:
        var_file.unlink()


def test_tfvars_example_passes_every_validation(offline_copy: tuple[Path, Path]) -> None:
    # The example users copy must hold only valid, known variables: planning with it fails only where the
    # offline provider cannot reach AWS, never on a variable.
    # dashboards_allowed_cidrs is left unset in the example: make deploy passes the deployer's IP as TF_VAR_.
    root, cli = offline_copy
    deployer_ip = {"TF_VAR_dashboards_allowed_cidrs": '["198.51.100.7/32"]'}
    result = Terraform(root, cli, deployer_ip).run(
        ["plan", "-refresh=false", "-input=false", "-no-color", "-var-file=terraform.tfvars.example"], ok=(1,)
    )
    errors = " ".join((result.stdout + result.stderr).split())
    assert "Invalid value for variable" not in errors, errors
    assert "undeclared variable" not in errors, errors
    assert "connection refused" in errors  # it got as far as calling AWS


def test_ingester_env_file_and_log_levels_match_the_ingester_settings() -> None:
    # The env file the user-data renders is read by ingester/config.py: every key must be a setting it
    # knows, and the log levels Terraform accepts must be exactly the ones the ingester accepts (any
    # other LOG_LEVEL stops it at start-up with exit 2, which systemd does not restart).
    from ingester.config import ENV_NAMES, LOG_LEVELS

    main = (MODULES_DIR / "ingester" / "main.tf").read_text()
    # The env maps (shared, X-only) and the keys merged into them inline (INGESTER_SOURCE, STATE_DIR).
    env_blocks = re.findall(r"^  \w*env = \{\n(.*?)^  \}", main, flags=re.MULTILINE | re.DOTALL)
    assert len(env_blocks) >= 2
    keys = [k for block in env_blocks for k in re.findall(r"^\s+([A-Z][A-Z0-9_]*)\s+=", block, flags=re.MULTILINE)]
    keys += re.findall(r"[{,] ([A-Z][A-Z0-9_]*) = ", main)
    assert {"INGESTER_SOURCE", "STATE_DIR", "TRACKED_TERMS", "X_BEARER_TOKEN_SSM_PARAMETER"} <= set(keys)
    assert keys and set(keys) <= set(ENV_NAMES.values()), set(keys) - set(ENV_NAMES.values())
    variables = (MODULES_DIR / "ingester" / "variables.tf").read_text()
    log_level = variables.split('variable "log_level" {', 1)[1].split("\n}\n", 1)[0]
    accepted = re.search(r"contains\(\[([^\]]*)\], var\.log_level\)", log_level)
    assert accepted is not None
    assert set(re.findall(r'"([A-Z]+)"', accepted.group(1))) == set(LOG_LEVELS)
