"""The whole stack against moto in server mode: init from the mirror, plan, apply that plan, no-change plan, checks,
destroy. Every IAM policy document of the plan and the state is linted with parliament.

The production configuration is applied unchanged from a temporary copy of terraform/. The only test
additions are files written into that copy: ``moto_override.tf`` (provider endpoints at the moto
server, dummy credentials) and ``moto.auto.tfvars`` (short OpenSearch timeouts, artefact paths).
Gaps in moto itself are closed in tests/support/moto_server.py.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.support.commands import run
from tests.support.iam_lint import (
    PARLIAMENT_ALLOW,
    is_suppressed,
    load_allow_list,
    parliament_binary,
    policy_documents,
    resource_type,
    run_parliament,
    unknown_policy_attributes,
)
from tests.support.paths import REPO_ROOT
from tests.support.terraform import (
    MOTO_CREDENTIALS,
    Terraform,
    moto_root,
    placeholder_bundle,
    placeholder_lambda_zip,
    require_terraform,
    reset_moto,
)
from tests.support.terraform import MOTO_REGION as REGION

pytestmark = [pytest.mark.terraform, pytest.mark.moto_server, pytest.mark.slow]

CONTRACT_OUTPUTS = {
    "opensearch_endpoint",
    "dashboards_url",
    "delivery_stream_name",
    "delivery_stream_arn",
    "backup_bucket_name",
    "firehose_role_arn",
    "opensearch_admin_role_arn",
    "dashboards_user_role_arn",
    "cognito_user_pool_id",
    "transform_function_name",
    "firehose_log_group_name",
    "ingester_instance_id",
    "ingester_public_ip",
    "ssh_command",
    "x_bearer_token_parameter_name",
    "x_bearer_token_kms_key_arn",
    "x_bearer_token_kms_key_alias",
    "aws_region",
    "index_name_prefix",
    "retention_days",
}
ALLOWED_CIDR = "198.51.100.7/32"
# Actions AWS grants on "*" only (no resource-level permissions); anything else must name its resource.
STAR_RESOURCE_ACTIONS = {
    "comprehend:BatchDetectSentiment",
    "cloudwatch:PutMetricData",
    # Session Manager channels and Run Command messages (the SSM Agent's calls)
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
    "ec2messages:AcknowledgeMessage",
    "ec2messages:DeleteMessage",
    "ec2messages:FailMessage",
    "ec2messages:GetEndpoint",
    "ec2messages:GetMessages",
    "ec2messages:SendReply",
}
# A real-looking bearer token the test puts with `make x-token`'s tool; a dummy, not a secret.
DUMMY_TOKEN = "AAAAAAAAAAAAAAAAAAAAAMotoCycle%2Bdummy%3Dbearer0123456789abcdef"


@dataclass
class Stack:
    tf: Terraform
    endpoint: str
    outputs: dict[str, Any]
    bundle_path: Path
    plan: dict[str, Any]  # terraform show -json of the saved plan that was applied
    applied: dict[str, Any]  # terraform show -json of the state right after that apply
    destroyed: bool = False
    clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        if service not in self.clients:
            self.clients[service] = boto3.client(service, endpoint_url=self.endpoint, **MOTO_CREDENTIALS)
        return self.clients[service]

    def out(self, name: str) -> Any:
        return self.outputs[name]["value"]


@pytest.fixture(scope="module")
def stack(moto_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    require_terraform()
    # Given an empty emulated account
    reset_moto(moto_server)
    work = tmp_path_factory.mktemp("tf-moto-cycle")
    # When the stack is initialised from the mirror
    tf = moto_root(moto_server, work)
    lambda_zip = REPO_ROOT / "dist" / "transform.zip"
    bundle = REPO_ROOT / "dist" / "ingester-bundle.tar.gz"
    missing = [str(p.relative_to(REPO_ROOT)) for p in (lambda_zip, bundle) if not p.is_file()]
    if missing and os.environ.get("REQUIRE_ALL_TESTS") == "1":
        # `make test` builds them first; CI must deploy the real artefacts, never placeholders.
        pytest.fail(f"{', '.join(missing)} not built: run `make build` before the moto cycle")
    if not lambda_zip.is_file():
        lambda_zip = placeholder_lambda_zip(work / "transform.zip")
    if not bundle.is_file():
        bundle = placeholder_bundle(work / "ingester-bundle.tar.gz")
    tfvars = {
        "lambda_zip_path": str(lambda_zip),
        "ingester_bundle_path": str(bundle),
        # The provider waits up to the create timeout before its first poll; moto is ready at once.
        "opensearch_timeouts": {"create": "10s", "update": "10s", "delete": "10s"},
        # Non-default so the parameter is sent (defaults are left out to avoid a perpetual diff).
        "processor_buffer_size": 0.5,
        "tracked_terms": ["aws", "amazon web services"],
        # Required for a public domain (make deploy fills in the deployer's IP); a documentation address here.
        "dashboards_allowed_cidrs": [ALLOWED_CIDR],
    }
    (tf.workdir / "moto.auto.tfvars.json").write_text(json.dumps(tfvars), encoding="utf-8")
    # and planned into a file, which is what gets applied (so the plan the IAM lint reads is the one deployed)
    tf.run(["plan", "-out=stack.tfplan", "-no-color", "-input=false"])
    plan = json.loads(tf.run(["show", "-json", "stack.tfplan"]).stdout)
    tf.run(["apply", "-auto-approve", "-no-color", "-input=false", "stack.tfplan"])
    applied = json.loads(tf.run(["show", "-json"]).stdout)
    outputs = json.loads(tf.run(["output", "-json"]).stdout)
    result = Stack(tf=tf, endpoint=moto_server, outputs=outputs, bundle_path=bundle, plan=plan, applied=applied)
    try:
        yield result
    finally:
        if not result.destroyed:
            tf.run(["destroy", "-auto-approve", "-no-color", "-input=false"], ok=(0, 1))


def allow_statements(document: dict[str, Any] | str) -> list[dict[str, Any]]:
    doc = json.loads(document) if isinstance(document, str) else document
    statements = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
    return [s for s in statements if s["Effect"] == "Allow"]


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def inline_allow_statements(stack: Stack, role: str) -> list[dict[str, Any]]:
    """The Allow statements of every inline policy of the role, as IAM returns them."""
    iam = stack.client("iam")
    return [
        statement
        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]
        for statement in allow_statements(iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"])
    ]


def test_second_plan_shows_no_changes(stack: Stack) -> None:
    # Given the stack as applied, with the ingester's separate state volume on (the default) and attached
    kinds = {r["type"] for r in state_resources(stack.applied) if r["address"].startswith("module.ingester.")}
    assert {"aws_ebs_volume", "aws_volume_attachment"} <= kinds
    # Then a second plan against the same account has nothing to do (exit 0, not 2): no tag fight between the
    # instance and the state volume, no trust or policy that moves
    result = stack.tf.run(["plan", "-detailed-exitcode", "-no-color", "-input=false"], ok=(0, 2))
    assert result.returncode == 0, f"second plan is not empty:\n{result.stdout[-8000:]}"


def test_outputs_follow_the_contract(stack: Stack) -> None:
    assert set(stack.outputs) >= CONTRACT_OUTPUTS
    for name in CONTRACT_OUTPUTS:
        assert stack.outputs[name]["sensitive"] is False, name
    endpoint = stack.out("opensearch_endpoint")
    assert endpoint and "://" not in endpoint and "/" not in endpoint
    assert stack.out("dashboards_url") == f"https://{endpoint}/_dashboards/"
    assert stack.out("index_name_prefix") == "tweets"
    assert stack.out("retention_days") == 30
    assert stack.out("aws_region") == REGION
    assert stack.out("delivery_stream_arn").endswith(f":deliverystream/{stack.out('delivery_stream_name')}")
    assert stack.out("firehose_log_group_name") == f"/aws/kinesisfirehose/{stack.out('delivery_stream_name')}"
    instance_id = stack.out("ingester_instance_id")
    assert instance_id.startswith("i-")
    # No SSH CIDRs were given, so the ready-to-paste command is a Session Manager session.
    assert stack.out("ssh_command") == f"aws ssm start-session --region {REGION} --target {instance_id}"


def test_backup_bucket_is_encrypted_private_versioned_and_tls_only(stack: Stack) -> None:
    s3 = stack.client("s3")
    bucket = stack.out("backup_bucket_name")
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    tls = [s for s in policy["Statement"] if s["Effect"] == "Deny" and "Bool" in s.get("Condition", {})]
    assert tls, policy
    assert tls[0]["Condition"]["Bool"]["aws:SecureTransport"] == "false"
    assert set(as_list(tls[0]["Resource"])) == {f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"}
    lifecycle = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    expiring = {r["Filter"].get("Prefix") for r in lifecycle if "Expiration" in r and "Days" in r["Expiration"]}
    assert expiring == {"processing-failed/", "AmazonOpenSearchService-failed/"}
    assert any("AbortIncompleteMultipartUpload" in r for r in lifecycle)


def test_bundle_is_uploaded_and_pinned_by_user_data(stack: Stack) -> None:
    import hashlib

    ec2 = stack.client("ec2")
    instance_id = stack.out("ingester_instance_id")
    raw = ec2.describe_instance_attribute(InstanceId=instance_id, Attribute="userData")["UserData"]["Value"]
    user_data = base64.b64decode(raw).decode()
    sha = hashlib.sha256(stack.bundle_path.read_bytes()).hexdigest()
    assert f"{sha}  /tmp/ingester-bundle.tar.gz" in user_data
    assert "bash /opt/tweet-ingester/src/install.sh" in user_data
    env_lines = dict(
        line.split("=", 1) for line in user_data.split("<<'ENV'\n", 1)[1].split("\nENV\n", 1)[0].splitlines()
    )
    assert env_lines == {
        "INGESTER_SOURCE": "x",
        "DELIVERY_STREAM_NAME": stack.out("delivery_stream_name"),
        "AWS_REGION": REGION,
        "TRACKED_TERMS": "aws,amazon web services",
        "X_BEARER_TOKEN_SSM_PARAMETER": stack.out("x_bearer_token_parameter_name"),
        "MAX_POSTS_PER_DAY": "10000",
        "CLOUDWATCH_METRICS": "true",
        "METRICS_NAMESPACE": "TweetSentiment/Ingester",
        "LOG_LEVEL": "INFO",
        # the deleter: the domain it deletes in, how long ids and deletions are kept, where redrive finds them
        "OPENSEARCH_ENDPOINT": f"https://{stack.out('opensearch_endpoint')}",
        "RETENTION_DAYS": "30",
        "TOMBSTONE_DAYS": "35",
        "TOMBSTONES_S3_URI": f"s3://{stack.out('backup_bucket_name')}/tombstones/tweet-ingester.jsonl",
    }
    copy = next(line for line in user_data.splitlines() if line.startswith("aws s3 cp"))
    uri = copy.split()[-2]
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    body = stack.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    assert body == stack.bundle_path.read_bytes()


def test_stream_delivers_to_opensearch_through_the_transform(stack: Stack) -> None:
    desc = stack.client("firehose").describe_delivery_stream(DeliveryStreamName=stack.out("delivery_stream_name"))[
        "DeliveryStreamDescription"
    ]
    assert desc["DeliveryStreamType"] == "DirectPut"
    assert desc["DeliveryStreamEncryptionConfiguration"]["Status"] == "ENABLED"
    dest = desc["Destinations"][0]["AmazonopensearchserviceDestinationDescription"]
    domain_arn = f"arn:aws:es:{REGION}:123456789012:domain/tweet-sentiment"
    assert dest["DomainARN"] == domain_arn
    assert dest["RoleARN"] == stack.out("firehose_role_arn")
    assert dest["IndexName"] == "tweets"
    assert dest["IndexRotationPeriod"] == "OneDay"
    assert dest["S3BackupMode"] == "FailedDocumentsOnly"
    assert dest["BufferingHints"] == {"IntervalInSeconds": 0, "SizeInMBs": 5}  # buffering_preset "realtime"
    # Firehose sends no document id; the index's default pipeline sets _id = tweet_id (one document per tweet).
    assert dest["DocumentIdOptions"] == {"DefaultDocumentIdFormat": "NO_DOCUMENT_ID"}
    assert dest["RetryOptions"] == {"DurationInSeconds": 3600}  # an hour: through a first deploy's role mapping
    assert dest["CloudWatchLoggingOptions"]["Enabled"] is True
    assert dest["CloudWatchLoggingOptions"]["LogGroupName"] == stack.out("firehose_log_group_name")
    backup = dest["S3DestinationDescription"]
    assert backup["BucketARN"] == f"arn:aws:s3:::{stack.out('backup_bucket_name')}"
    assert backup["CompressionFormat"] == "GZIP"
    assert not backup.get("Prefix") and not backup.get("ErrorOutputPrefix")
    processing = dest["ProcessingConfiguration"]
    assert processing["Enabled"] is True
    (processor,) = processing["Processors"]
    assert processor["Type"] == "Lambda"
    params = {p["ParameterName"]: p["ParameterValue"] for p in processor["Parameters"]}
    # Firehose invokes the published version behind the `live` alias, never $LATEST (an apply that changes the
    # code moves the alias; the previous version stays for a rollback).
    alias = stack.client("lambda").get_alias(FunctionName=stack.out("transform_function_name"), Name="live")
    assert params["LambdaArn"] == alias["AliasArn"]
    assert alias["FunctionVersion"] not in {"$LATEST", ""}
    assert params["BufferSizeInMBs"] == "0.5"  # set in the test's tfvars
    # The realtime preset invokes the transform as records arrive (Firehose's own default would be 60 s).
    assert params["BufferIntervalInSeconds"] == "0"


def test_transform_function_configuration(stack: Stack) -> None:
    config = stack.client("lambda").get_function(FunctionName=stack.out("transform_function_name"))["Configuration"]
    assert config["Handler"] == "transform.handler.lambda_handler"
    assert config["Runtime"] in {"python3.12", "python3.13"}
    assert config["Architectures"] == ["arm64"]
    assert config["Environment"]["Variables"] == {
        "SENTIMENT_BACKEND": "embedded",  # the variable's default: a fresh deploy scores with the trained model
        "SENTIMENT_FALLBACK": "none",  # the default: no Comprehend call, no Comprehend grant
        "COMPREHEND_CONCURRENCY": "4",
        "EMIT_METRICS": "true",
        "METRICS_NAMESPACE": "TweetSentiment/Transform",
        "LOG_LEVEL": "INFO",
        "ENRICHMENTS": "",  # off by default: no Comprehend enrichment is billed
    }
    groups = stack.client("logs").describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{config['FunctionName']}")
    assert groups["logGroups"][0]["retentionInDays"] == 30


def test_domain_is_encrypted_tls12_and_fine_grained(stack: Stack) -> None:
    status = stack.client("opensearch").describe_domain(DomainName="tweet-sentiment")["DomainStatus"]
    assert status["EngineVersion"].startswith("OpenSearch_")
    assert status["ClusterConfig"]["InstanceType"] == "t3.small.search"
    assert status["EBSOptions"]["VolumeType"] == "gp3"
    assert status["EncryptionAtRestOptions"]["Enabled"] is True
    assert status["NodeToNodeEncryptionOptions"]["Enabled"] is True
    endpoint = status["DomainEndpointOptions"]
    assert endpoint["EnforceHTTPS"] is True
    assert endpoint["TLSSecurityPolicy"].startswith("Policy-Min-TLS-1-2")
    security = status["AdvancedSecurityOptions"]
    assert security["Enabled"] is True
    assert security["InternalUserDatabaseEnabled"] is False  # the master user is an IAM role
    assert security["AnonymousAuthEnabled"] is False
    assert set(status["LogPublishingOptions"]) == {"ES_APPLICATION_LOGS", "INDEX_SLOW_LOGS", "SEARCH_SLOW_LOGS"}
    policy = json.loads(status["AccessPolicies"])
    for statement in policy["Statement"]:
        actions = as_list(statement["Action"])
        assert all(a.startswith("es:ESHttp") for a in actions), actions
        assert all(r.startswith(status["ARN"] + "/") for r in as_list(statement["Resource"]))
        # Anyone is admitted only from the allowed sources; the Firehose role from anywhere.
        if statement["Principal"] == {"AWS": "*"}:
            assert as_list(statement["Condition"]["IpAddress"]["aws:SourceIp"]) == [ALLOWED_CIDR]
        else:
            assert as_list(statement["Principal"]["AWS"]) == [stack.out("firehose_role_arn")]


def state_resources(state: dict[str, Any]) -> list[dict[str, Any]]:
    """Every resource and data source of ``terraform show -json``, child modules included."""
    out: list[dict[str, Any]] = []
    pending = [state["values"]["root_module"]]
    while pending:
        module = pending.pop()
        out.extend(module.get("resources", []))
        pending.extend(module.get("child_modules", []))
    return out


def leaves(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    if isinstance(value, dict):
        for key, sub in value.items():
            yield from leaves(sub, (*path, str(key)))
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            yield from leaves(sub, (*path, str(index)))
    else:
        yield path, value


# Keys whose value would be a credential (the old master password sat under the first three).
CREDENTIAL_KEYS = re.compile(r"password|secret_string|random_password|secret_binary|private_key|token", re.IGNORECASE)
# Settings that only name or constrain credentials (the user pool's password policy and the like).
CREDENTIAL_SETTING_KEYS = re.compile(
    r"^(password_policy|temporary_password_validity_days|minimum_length|require_\w+|password_history_size|"
    r"value_wo_version|.*_token_validity|token_validity_units|software_token_mfa_configuration|http_tokens)$"
)


def is_base64_digest(value: str) -> bool:
    try:
        return len(base64.b64decode(value, validate=True)) in (16, 20, 32, 48, 64)
    except ValueError:
        return False


# Sensitive attributes that hold no credential, each with its reason.
SENSITIVE_NOT_SECRET = {
    # the public AWS parameter naming the latest Amazon Linux AMI; the provider marks every parameter value sensitive
    "module.ingester.data.aws_ssm_parameter.ami[0]",
}


def password_shaped(value: str) -> bool:
    """What a generated password looks like: 8-128 characters without spaces, mixing lower and upper case letters,
    digits and symbols, and none of the identifiers a state holds (ARNs, URLs, JSON, IDs, paths, hashes)."""
    if not 8 <= len(value) <= 128 or any(c.isspace() for c in value):
        return False
    if is_base64_digest(value):
        return False  # Terraform's source hashes (base64 SHA-256 and the like)
    if value.startswith(("arn:", "http://", "https://", "/", "{", "[", "s3://")) or re.fullmatch(r"[\w.:/-]+", value):
        return False  # identifiers: only letters, digits and . _ : / - (pool IDs, names, hosts, versions)
    classes = [any(c.islower() for c in value), any(c.isupper() for c in value), any(c.isdigit() for c in value),
               any(not c.isalnum() for c in value)]  # fmt: skip
    return all(classes)


def test_applied_state_holds_no_credential(stack: Stack) -> None:
    # Given the applied stack's state as Terraform shows it
    state = json.loads(stack.tf.run(["show", "-json"]).stdout)
    resources = state_resources(state)
    types = {r["type"] for r in resources}
    # Then nothing that generates or stores a password is managed at all
    assert not types & {"aws_secretsmanager_random_password", "aws_secretsmanager_secret",
                        "aws_secretsmanager_secret_version", "aws_cognito_user"}, types  # fmt: skip
    found: list[str] = []
    for resource in resources:
        # and no credential-named attribute holds a value (the domain's master_user_password stays empty)
        for path, value in leaves(resource.get("values") or {}):
            named = [k for k in path if CREDENTIAL_KEYS.search(k) and not CREDENTIAL_SETTING_KEYS.match(k)]
            if named and value not in (None, "", False, 0):
                found.append(f"{resource['address']}: {'.'.join(path)}")
        # and no attribute Terraform marks sensitive holds a value
        for path, marked in leaves(resource.get("sensitive_values") or {}):
            if marked is True and resource["address"] not in SENSITIVE_NOT_SECRET:
                value: Any = resource.get("values") or {}
                for key in path:
                    value = value[int(key)] if isinstance(value, list) else (value or {}).get(key)
                if value not in (None, "", [], {}):
                    found.append(f"{resource['address']}: sensitive {'.'.join(path)}")
    assert found == []
    # and no value anywhere looks like a password
    shaped = [f"{'.'.join(p)}={v[:4]}..." for p, v in leaves(state) if isinstance(v, str) and password_shaped(v)]
    assert shaped == []
    # The detector itself finds what the old configuration stored (a Secrets Manager generated password).
    assert password_shaped("q7#Rk2!vLm9$Tz4@Xc8&Wp3*Hn6^Jb1x")
    assert not password_shaped("us-east-1_096a19a5b435425ab8ceeefa0b27e996")
    assert not password_shaped('{"Version":"2012-10-17","Statement":[]}')
    assert not password_shaped(base64.b64encode(bytes(range(32))).decode())


def test_master_user_is_the_admin_role_and_no_secret_exists(stack: Stack) -> None:
    # The domain's master user, as Terraform sent it (DescribeDomain never returns MasterUserOptions)
    state = json.loads(stack.tf.run(["show", "-json"]).stdout)
    (domain,) = [r for r in state_resources(state) if r["type"] == "aws_opensearch_domain"]
    security = domain["values"]["advanced_security_options"][0]
    assert security["internal_user_database_enabled"] is False
    (master,) = security["master_user_options"]
    admin_arn = stack.out("opensearch_admin_role_arn")
    assert master["master_user_arn"] == admin_arn == "arn:aws:iam::123456789012:role/tweet-sentiment-opensearch-admin"
    assert not master["master_user_name"] and not master["master_user_password"]
    # The admin role trusts the identity that applied (moto's default caller), never the whole account, and its only
    # permission is passing the alert role to OpenSearch Service (the SNS channel make opensearch-setup creates):
    # what it may do inside OpenSearch comes from fine-grained access control.
    iam = stack.client("iam")
    role = iam.get_role(RoleName="tweet-sentiment-opensearch-admin")["Role"]
    (trust,) = allow_statements(role["AssumeRolePolicyDocument"])
    assert trust["Action"] == "sts:AssumeRole"
    assert trust["Principal"] == {"AWS": stack.client("sts").get_caller_identity()["Arn"]}
    assert iam.list_role_policies(RoleName="tweet-sentiment-opensearch-admin")["PolicyNames"] == ["pass-alert-role"]
    policy = iam.get_role_policy(RoleName="tweet-sentiment-opensearch-admin", PolicyName="pass-alert-role")
    (grant,) = allow_statements(policy["PolicyDocument"])
    assert as_list(grant["Action"]) == ["iam:PassRole"]
    assert as_list(grant["Resource"]) == [stack.out("sentiment_alert_role_arn")]
    assert grant["Condition"] == {"StringEquals": {"iam:PassedToService": "es.amazonaws.com"}}
    assert iam.list_attached_role_policies(RoleName="tweet-sentiment-opensearch-admin")["AttachedPolicies"] == []
    # No secret of any kind was created in the account.
    assert stack.client("secretsmanager").list_secrets()["SecretList"] == []


def test_dashboards_sign_in_through_cognito(stack: Stack) -> None:
    status = stack.client("opensearch").describe_domain(DomainName="tweet-sentiment")["DomainStatus"]
    cognito = status["CognitoOptions"]
    pool_id = stack.out("cognito_user_pool_id")
    assert cognito["Enabled"] is True
    assert cognito["UserPoolId"] == pool_id
    assert cognito["RoleArn"] == "arn:aws:iam::123456789012:role/tweet-sentiment-opensearch-cognito"
    # The user pool: administrators create users, strong passwords, TOTP MFA required, and no user from Terraform
    idp = stack.client("cognito-idp")
    pool = idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert pool["UsernameAttributes"] == ["email"]
    policy = pool["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 14
    assert all(policy[k] for k in ("RequireUppercase", "RequireLowercase", "RequireNumbers", "RequireSymbols"))
    mfa = idp.get_user_pool_mfa_config(UserPoolId=pool_id)
    assert mfa["MfaConfiguration"] == "ON"
    assert mfa["SoftwareTokenMfaConfiguration"] == {"Enabled": True}
    assert idp.list_users(UserPoolId=pool_id)["Users"] == []
    assert pool["Domain"] == "tweet-sentiment-123456789012"
    assert idp.describe_user_pool_domain(Domain=pool["Domain"])["DomainDescription"]["UserPoolId"] == pool_id
    # The identity pool: no guests; signed-in users get the dashboards-user role
    identity = stack.client("cognito-identity")
    identity_pool_id = cognito["IdentityPoolId"]
    assert identity.describe_identity_pool(IdentityPoolId=identity_pool_id)["AllowUnauthenticatedIdentities"] is False
    roles = identity.get_identity_pool_roles(IdentityPoolId=identity_pool_id)["Roles"]
    assert roles == {"authenticated": stack.out("dashboards_user_role_arn")}
    iam = stack.client("iam")
    (user_trust,) = allow_statements(iam.get_role(RoleName="tweet-sentiment-dashboards-user")["Role"][
        "AssumeRolePolicyDocument"])  # fmt: skip
    assert user_trust["Principal"] == {"Federated": "cognito-identity.amazonaws.com"}
    assert user_trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert user_trust["Condition"]["StringEquals"] == {"cognito-identity.amazonaws.com:aud": identity_pool_id}
    assert user_trust["Condition"]["ForAnyValue:StringLike"] == {"cognito-identity.amazonaws.com:amr": "authenticated"}
    assert iam.list_role_policies(RoleName="tweet-sentiment-dashboards-user")["PolicyNames"] == []
    # The role OpenSearch uses to configure Cognito: the AWS-managed policy, only for this domain of this account
    (service_trust,) = allow_statements(iam.get_role(RoleName="tweet-sentiment-opensearch-cognito")["Role"][
        "AssumeRolePolicyDocument"])  # fmt: skip
    assert service_trust["Principal"] == {"Service": "es.amazonaws.com"}
    assert service_trust["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "123456789012"},
        "ArnLike": {"aws:SourceArn": status["ARN"]},
    }
    attached = iam.list_attached_role_policies(RoleName="tweet-sentiment-opensearch-cognito")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == ["arn:aws:iam::aws:policy/AmazonOpenSearchServiceCognitoAccess"]


def x_token_tool(stack: Stack, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """`make x-token` (python -m scripts.ops.x_token) against the moto server, with this stack's Terraform outputs."""
    env = {
        **stack.tf.env(),
        "AWS_ENDPOINT_URL": stack.endpoint,
        "PYTHONPATH": f"{REPO_ROOT / 'lambda_src'}:{REPO_ROOT}",
    }
    env.pop("AWS_REGION", None)  # the region must come from the Terraform output
    env.pop("AWS_PROFILE", None)  # the fixture's empty AWS_PROFILE is a profile botocore cannot find
    return run(
        [sys.executable, "-m", "scripts.ops.x_token", "--tf-dir", str(stack.tf.workdir), *args],
        input=stdin,
        env=env,
        timeout=120,
    )


def test_token_parameter_is_not_created_by_terraform(stack: Stack) -> None:
    # Terraform creates the key only: a managed parameter would be read back with decryption at every refresh.
    name = stack.out("x_bearer_token_parameter_name")
    assert name == "/tweet-sentiment/x-bearer-token"
    assert (
        stack.client("ssm").describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])["Parameters"]
        == []
    )
    root = stack.applied["values"]["root_module"]
    managed = [r for m in [root, *root["child_modules"]] for r in m.get("resources", []) if r["mode"] == "managed"]
    resources = {r["type"] for r in managed}
    assert "aws_ssm_parameter" not in resources  # (the AMI lookup is a data source)
    assert {"aws_kms_key", "aws_kms_alias"} <= resources


def test_token_key_rotates_and_only_the_ingester_role_may_decrypt(stack: Stack) -> None:
    kms = stack.client("kms")
    key_arn = stack.out("x_bearer_token_kms_key_arn")
    alias = stack.out("x_bearer_token_kms_key_alias")
    assert alias == "alias/tweet-sentiment-ingester-x-bearer-token"
    aliases = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"]}
    assert aliases[alias] == key_arn.split("/")[-1]
    assert kms.get_key_rotation_status(KeyId=key_arn)["KeyRotationEnabled"] is True
    policy = json.loads(kms.get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"])
    role_arn = "arn:aws:iam::123456789012:role/tweet-sentiment-ingester"
    parameter_arn = f"arn:aws:ssm:{REGION}:123456789012:parameter{stack.out('x_bearer_token_parameter_name')}"
    via_ssm = {
        "StringEquals": {
            "kms:ViaService": f"ssm.{REGION}.amazonaws.com",
            "kms:EncryptionContext:PARAMETER_ARN": parameter_arn,
        }
    }
    # No statement of the key policy lets anyone but the ingester role decrypt, or hand out decrypt (grants),
    # or use a wildcard action; the role may decrypt only through SSM, only for the token parameter.
    decrypting = {"kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncrypt*", "kms:CreateGrant", "kms:*", "*"}
    grants: dict[str, list[dict[str, Any]]] = {}
    for statement in allow_statements(policy):
        actions = set(as_list(statement["Action"]))
        assert not any(a.endswith("*") for a in actions), actions
        for principal in as_list(statement["Principal"]["AWS"]):
            grants.setdefault(principal, []).append(statement)
            if actions & decrypting:
                assert principal == role_arn and actions == {"kms:Decrypt"}, statement
                assert statement["Condition"] == via_ssm
    (role_statement,) = grants[role_arn]
    assert as_list(role_statement["Action"]) == ["kms:Decrypt"]
    # The account administers the key and encrypts through SSM for the parameter, and nothing more
    account = grants["arn:aws:iam::123456789012:root"]
    encrypting = [s for s in account if set(as_list(s["Action"])) & {"kms:Encrypt", "kms:GenerateDataKey"}]
    assert [sorted(as_list(s["Action"])) for s in encrypting] == [["kms:Encrypt", "kms:GenerateDataKey"]]
    assert encrypting[0]["Condition"] == via_ssm
    assert set(grants) == {role_arn, "arn:aws:iam::123456789012:root"}


def test_real_bearer_token_never_reaches_the_state(stack: Stack) -> None:
    # Given the operator puts the real token with `make x-token` (piped on stdin, never on the command line)
    name = stack.out("x_bearer_token_parameter_name")
    put = x_token_tool(stack, stdin=DUMMY_TOKEN + "\n")
    assert put.returncode == 0, put.stderr
    assert f"SecureString {name} in {REGION}, key {stack.out('x_bearer_token_kms_key_alias')}" in put.stdout
    assert DUMMY_TOKEN not in put.stdout + put.stderr
    ssm = stack.client("ssm")
    (meta,) = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])["Parameters"]
    assert meta["Type"] == "SecureString"
    assert meta["KeyId"] == stack.out("x_bearer_token_kms_key_alias")
    # When Terraform refreshes the state and plans again
    stack.tf.run(["apply", "-refresh-only", "-auto-approve", "-no-color", "-input=false"])
    plan = stack.tf.run(["plan", "-detailed-exitcode", "-no-color", "-input=false"], ok=(0, 2))
    # Then neither the state nor `terraform show -json` holds the token, and nothing wants to touch the parameter
    state = stack.tf.run(["state", "pull"]).stdout
    shown = stack.tf.run(["show", "-json"]).stdout
    assert DUMMY_TOKEN not in state and DUMMY_TOKEN not in shown
    assert name not in json.dumps([r["type"] for r in json.loads(shown)["values"]["root_module"].get("resources", [])])
    assert plan.returncode == 0, f"plan after setting the token is not empty:\n{plan.stdout[-8000:]}"
    assert ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"] == DUMMY_TOKEN


def test_token_tool_fails_in_one_line_without_outputs(stack: Stack, tmp_path: Path) -> None:
    result = x_token_tool(stack, "--tf-dir", str(tmp_path), stdin=DUMMY_TOKEN)
    assert result.returncode == 1
    assert result.stdout == "" and result.stderr.count("\n") == 1
    assert "--parameter-name" in result.stderr and DUMMY_TOKEN not in result.stderr


def test_ingester_instance_is_hardened(stack: Stack) -> None:
    ec2 = stack.client("ec2")
    instance = ec2.describe_instances(InstanceIds=[stack.out("ingester_instance_id")])["Reservations"][0]["Instances"][
        0
    ]
    assert instance["MetadataOptions"]["HttpTokens"] == "required"
    assert instance["MetadataOptions"]["HttpEndpoint"] == "enabled"
    assert instance["InstanceType"] == "t4g.small"
    assert instance["IamInstanceProfile"]["Arn"].endswith(":instance-profile/tweet-sentiment-ingester")
    root = next(m for m in instance["BlockDeviceMappings"] if m["DeviceName"] == instance["RootDeviceName"])
    volume = ec2.describe_volumes(VolumeIds=[root["Ebs"]["VolumeId"]])["Volumes"][0]
    assert volume["Encrypted"] is True
    (group,) = instance["SecurityGroups"]
    sg = ec2.describe_security_groups(GroupIds=[group["GroupId"]])["SecurityGroups"][0]
    assert sg["IpPermissions"] == []  # no SSH CIDRs given: no ingress at all
    assert [(p["IpProtocol"], p["FromPort"], p["ToPort"]) for p in sg["IpPermissionsEgress"]] == [("tcp", 443, 443)]


def test_iam_policies_name_their_resources_and_never_grant_star_actions(stack: Stack) -> None:
    iam = stack.client("iam")
    names = {r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].startswith("tweet-sentiment-")}
    # The OpenSearch authentication roles carry no inline policy (test_dashboards_sign_in_through_cognito).
    auth_roles = {
        "tweet-sentiment-opensearch-admin",
        "tweet-sentiment-opensearch-cognito",
        "tweet-sentiment-dashboards-user",
    }
    alert_role = "tweet-sentiment-opensearch-alerts"  # OpenSearch publishes the sentiment alert as it
    assert names == {"tweet-sentiment-firehose", "tweet-sentiment-transform", "tweet-sentiment-ingester", alert_role,
                     *auth_roles}  # fmt: skip
    alert = iam.get_role_policy(RoleName=alert_role, PolicyName="sns-publish")["PolicyDocument"]
    topic_key = stack.client("kms").describe_key(KeyId="alias/tweet-sentiment-alarms")["KeyMetadata"]["Arn"]
    assert sorted((as_list(s["Action"]), as_list(s["Resource"])) for s in allow_statements(alert)) == [
        (["kms:GenerateDataKey*", "kms:Decrypt"], [topic_key]),
        (["sns:Publish"], [stack.out("monitoring_sns_topic_arn")]),
    ]
    roles = [r for r in iam.list_roles()["Roles"] if r["RoleName"] in names - auth_roles]
    seen_actions: set[str] = set()
    for role in roles:
        names = iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"]
        assert names, role["RoleName"]
        for name in names:
            document = iam.get_role_policy(RoleName=role["RoleName"], PolicyName=name)["PolicyDocument"]
            for statement in allow_statements(document):
                actions = as_list(statement["Action"])
                resources = as_list(statement["Resource"])
                seen_actions.update(actions)
                for action in actions:
                    assert action != "*" and not action.endswith(":*"), (role["RoleName"], name, action)
                if "*" in resources:
                    assert set(actions) <= STAR_RESOURCE_ACTIONS, (role["RoleName"], name, actions)
                    if "cloudwatch:PutMetricData" in actions:
                        assert statement["Condition"]["StringEquals"]["cloudwatch:namespace"]
                for resource in resources:
                    assert resource == "*" or resource.startswith("arn:aws:"), resource
    assert {"firehose:PutRecordBatch", "lambda:InvokeFunction"} <= seen_actions
    # No AWS-managed policy anywhere (AmazonSSMManagedInstanceCore read every parameter of the account)
    for role in roles:
        assert iam.list_attached_role_policies(RoleName=role["RoleName"])["AttachedPolicies"] == [], role["RoleName"]
    ingester = iam.get_role_policy(RoleName="tweet-sentiment-ingester", PolicyName="firehose-put")["PolicyDocument"]
    assert as_list(allow_statements(ingester)[0]["Resource"]) == [stack.out("delivery_stream_arn")]
    # Only the calls each principal makes: the ingester batches (never PutRecord); the transform's metrics
    # are embedded-metric-format log lines, so it needs no PutMetricData.
    assert sorted(as_list(allow_statements(ingester)[0]["Action"])) == [
        "firehose:DescribeDeliveryStream",
        "firehose:PutRecordBatch",
    ]
    transform_actions = {
        action
        for statement in inline_allow_statements(stack, "tweet-sentiment-transform")
        for action in as_list(statement["Action"])
    }
    # The default backend (embedded) calls no Comprehend API: no Comprehend grant at all
    assert transform_actions == {"logs:CreateLogStream", "logs:PutLogEvents"}


def test_ingester_role_reads_exactly_one_parameter_and_has_no_kms_grant(stack: Stack) -> None:
    statements = inline_allow_statements(stack, "tweet-sentiment-ingester")
    parameter_arn = f"arn:aws:ssm:{REGION}:123456789012:parameter{stack.out('x_bearer_token_parameter_name')}"
    ssm_grants = [
        (as_list(s["Action"]), as_list(s["Resource"])) for s in statements if "ssm:" in json.dumps(s["Action"])
    ]
    assert sorted(ssm_grants) == sorted(
        [
            (["ssm:GetParameter"], [parameter_arn]),
            (["ssm:UpdateInstanceInformation"], [f"arn:aws:ec2:{REGION}:123456789012:instance/*"]),
        ]
    )
    # Decrypting the token is granted by the key policy alone; the role's own policies hold no KMS action.
    assert not [s for s in statements if "kms:" in json.dumps(s["Action"])]
    session = {a for s in statements for a in as_list(s["Action"]) if a.startswith(("ssmmessages:", "ec2messages:"))}
    assert session == {a for a in STAR_RESOURCE_ACTIONS if a.startswith(("ssmmessages:", "ec2messages:"))}


def test_ingester_role_may_delete_only_in_tweets_and_write_only_tombstones(stack: Stack) -> None:
    statements = inline_allow_statements(stack, "tweet-sentiment-ingester")
    es = [
        (as_list(s["Action"]), as_list(s["Resource"]))
        for s in statements
        if any(a.startswith("es:") for a in as_list(s["Action"]))
    ]
    domain_arn = f"arn:aws:es:{REGION}:123456789012:domain/tweet-sentiment"
    assert es == [(["es:ESHttpPost"], [f"{domain_arn}/tweets-*/_delete_by_query"])]
    writes = [(as_list(s["Action"]), as_list(s["Resource"])) for s in statements if "s3:Put" in json.dumps(s)]
    assert writes == [(["s3:PutObject"], [f"arn:aws:s3:::{stack.out('backup_bucket_name')}/tombstones/*"])]


def test_every_iam_policy_document_passes_parliament(stack: Stack) -> None:
    binary = parliament_binary()
    if binary is None:
        pytest.skip("parliament not installed (make test installs it in .venv-parliament and sets PARLIAMENT_BIN)")
    # Given every policy document of the applied plan: those known at plan time, and the rest (unknown until
    # apply) from the state the plan produced
    # (a plan holds data sources read at plan time in prior_state, and what it will create in planned_values)
    planned = policy_documents(stack.plan["planned_values"]["root_module"]) + policy_documents(
        stack.plan.get("prior_state", {}).get("values", {}).get("root_module", {})
    )
    applied = policy_documents(stack.applied["values"]["root_module"])
    applied_holders = {h for d in applied for h in d.holders}
    planned_holders = {h for d in planned for h in d.holders}
    assert planned_holders <= applied_holders, planned_holders - applied_holders
    unknown_at_plan = unknown_policy_attributes(stack.plan)
    # (each document the state holds was in the plan, or sits in an attribute the plan marked unknown until apply)
    missed = {
        h
        for h in applied_holders - planned_holders
        if not any(h == u or h.startswith((f"{u}[", f"{u}.")) for u in unknown_at_plan)
    }
    assert not missed, missed
    # every kind of policy the stack holds is in the set (the walk finds them without knowing attribute names)
    types = {resource_type(h) for d in applied for h in d.holders}
    assert {
        "aws_iam_role_policy",
        "aws_iam_role",
        "aws_iam_policy_document",
        "aws_kms_key",
        "aws_s3_bucket_policy",
        "aws_cloudwatch_log_resource_policy",
    } <= types, types
    assert "aws_opensearch_domain_policy" in types or any("access_policies" in h for d in applied for h in d.holders)
    # When parliament (community auditors on, every severity) reads them
    findings = run_parliament(binary, applied)
    allow = load_allow_list()
    suppressed = [f for f in findings if is_suppressed(f, allow)]
    unsuppressed = [f for f in findings if not is_suppressed(f, allow)]
    print(
        f"parliament: {len(applied)} distinct policy documents ({sum(d.is_resource_policy for d in applied)} resource "
        f"policies) from {len(applied_holders)} attributes; {len(findings)} findings, {len(suppressed)} suppressed"
    )
    # Then nothing is found that is not suppressed, with its reason, in the one reviewed allow list,
    # and that list holds no entry that no longer matches anything
    assert not unsuppressed, "\n".join(
        f"{f.severity} {f.issue} {f.detail} in {', '.join(f.holders)}" for f in unsuppressed
    )
    stale = [e for e in allow if not any(is_suppressed(f, [e]) for f in findings)]
    assert not stale, f"{PARLIAMENT_ALLOW} has suppressions that match no finding: {stale}"


def test_destroy_removes_the_stack(stack: Stack) -> None:
    # Finally the operator deletes the token parameter (Terraform does not own it), as the README says
    deleted = x_token_tool(stack, "--delete")
    assert deleted.returncode == 0 and "deleted" in deleted.stdout, deleted.stderr
    name = stack.out("x_bearer_token_parameter_name")
    assert (
        stack.client("ssm").describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])["Parameters"]
        == []
    )
    # and the stack destroys cleanly (the backup bucket is empty, so force_destroy stays off)
    stack.tf.run(["destroy", "-auto-approve", "-no-color", "-input=false"])
    stack.destroyed = True
    assert json.loads(stack.tf.run(["show", "-json"]).stdout).get("values") is None
    assert stack.client("firehose").list_delivery_streams()["DeliveryStreamNames"] == []
    assert stack.client("opensearch").list_domain_names()["DomainNames"] == []
    reservations = stack.client("ec2").describe_instances(InstanceIds=[stack.out("ingester_instance_id")])
    assert reservations["Reservations"][0]["Instances"][0]["State"]["Name"] == "terminated"
    key = stack.client("kms").describe_key(KeyId=stack.out("x_bearer_token_kms_key_arn"))["KeyMetadata"]
    assert key["KeyState"] == "PendingDeletion"
