"""scripts/ops/state_backend.py (make state-backend) against the moto server, and Terraform using the backend it
writes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from scripts.ops import state_backend
from tests.support.commands import make_dry_run, needs_make
from tests.support.terraform import Terraform, unavailable_reason, write_cli_config

pytestmark = [pytest.mark.moto_server]

ACCOUNT = "123456789012"  # moto's account
REGION = "eu-west-1"  # not us-east-1, so the bucket needs a LocationConstraint


def s3() -> Any:
    return boto3.client("s3", region_name=REGION)


def create(tf_dir: Path, lines: list[str] | None = None, **kwargs: Any) -> state_backend.Backend:
    say = lines.append if lines is not None else (lambda _line: None)
    options: dict[str, Any] = {"region": REGION, "bucket": None, "key": None, "name_prefix": "tweet-sentiment"}
    options.update(kwargs)
    return state_backend.run(tf_dir, kms_key_arn=options.pop("kms_key_arn", None), say=say, **options)


def test_bucket_is_private_versioned_encrypted_and_tls_only(moto_endpoint: str, tmp_path: Path) -> None:
    # Given an empty account, when make state-backend runs
    backend = create(tmp_path)
    # Then the bucket is named after the account and Region, in that Region
    bucket = f"tweet-sentiment-tfstate-{ACCOUNT}-{REGION}"
    assert backend == state_backend.Backend(bucket, "tweet-sentiment/terraform.tfstate", REGION)
    client = s3()
    assert client.get_bucket_location(Bucket=bucket)["LocationConstraint"] == REGION
    block = client.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert block == dict.fromkeys(
        ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
    )
    assert client.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "BucketOwnerEnforced"}
    ]
    assert client.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    (rule,) = client.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    policy = json.loads(client.get_bucket_policy(Bucket=bucket)["Policy"])
    denies = {s["Sid"]: s for s in policy["Statement"] if s["Effect"] == "Deny"}
    assert denies["DenyWithoutTls"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert denies["DenyTlsOlderThan12"]["Condition"] == {"NumericLessThan": {"s3:TlsVersion": "1.2"}}
    for statement in denies.values():
        assert statement["Action"] == "s3:*"
        assert set(statement["Resource"]) == {f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"}
    (lifecycle,) = client.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert lifecycle["NoncurrentVersionExpiration"]["NoncurrentDays"] == state_backend.NONCURRENT_DAYS
    # and the root module is pointed at it, with S3 locking
    text = (tmp_path / "backend.tf").read_text()
    assert f'bucket       = "{bucket}"' in text
    assert 'key          = "tweet-sentiment/terraform.tfstate"' in text
    assert "use_lockfile = true" in text
    assert "encrypt      = true" in text
    assert "dynamodb" not in text


def test_second_run_changes_nothing(moto_endpoint: str, tmp_path: Path) -> None:
    first = create(tmp_path)
    client = s3()
    client.put_object(Bucket=first.bucket, Key=first.key, Body=b"{}")
    written = (tmp_path / "backend.tf").stat().st_mtime_ns
    lines: list[str] = []
    assert create(tmp_path, lines) == first
    assert lines[0] == f"bucket {first.bucket}: exists in account {ACCOUNT}"
    assert lines[-1].endswith("backend.tf: unchanged")
    assert (tmp_path / "backend.tf").stat().st_mtime_ns == written
    assert client.get_object(Bucket=first.bucket, Key=first.key)["Body"].read() == b"{}"


def test_kms_key_switches_to_sse_kms(moto_endpoint: str, tmp_path: Path) -> None:
    key = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]
    backend = create(tmp_path, kms_key_arn=key, bucket="team-state", key="prod/terraform.tfstate")
    (rule,) = s3().get_bucket_encryption(Bucket="team-state")["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}
    assert rule["BucketKeyEnabled"] is True
    assert f'kms_key_id   = "{key}"' in backend.render()


def test_missing_region_and_long_names_are_refused(moto_endpoint: str, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    with pytest.raises(state_backend.BackendError, match="no AWS Region"):
        create(tmp_path, region=None)
    with pytest.raises(state_backend.BackendError, match="longer than 63"):
        create(tmp_path, name_prefix="a-very-long-stack-name-for-the-state")
    assert not (tmp_path / "backend.tf").exists()  # never points Terraform at a half-made bucket


def test_main_reports_one_line_and_exit_1(moto_endpoint: str, tmp_path: Path, capsys) -> None:
    code = state_backend.main(["--tf-dir", str(tmp_path), "--region", REGION, "--bucket", "x" * 64])
    assert code == 1
    assert capsys.readouterr().err.strip().splitlines() == [
        f"python -m scripts.ops.state_backend: bucket name {'x' * 64} is longer than 63 characters: pass --bucket"
    ]


@pytest.mark.terraform
def test_terraform_stores_and_locks_its_state_in_the_bucket(moto_endpoint: str, tmp_path: Path) -> None:
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    # Given a root module with the written backend.tf (the emulator's endpoint added as extra backend config)
    root = tmp_path / "root"
    root.mkdir()
    backend = create(root)
    (root / "main.tf").write_text('resource "terraform_data" "marker" {\n  input = "state in s3"\n}\n')
    (root / "moto.s3.tfbackend").write_text(
        f'endpoints = {{\n  s3  = "{moto_endpoint}"\n  sts = "{moto_endpoint}"\n}}\n'
        'access_key = "testing"\nsecret_key = "testing"\nuse_path_style = true\n'
        "skip_credentials_validation = true\nskip_requesting_account_id = true\nskip_metadata_api_check = true\n"
    )
    tf = Terraform(root, write_cli_config(tmp_path / "cli"))
    assert tf.run(["fmt", "-check", "-no-color"], ok=(0, 3)).returncode == 0, "backend.tf is not terraform fmt clean"
    # When terraform initialises and applies
    tf.run(["init", "-no-color", "-input=false", "-backend-config=moto.s3.tfbackend"])
    tf.run(["apply", "-auto-approve", "-no-color", "-input=false"])
    # Then the state is in the bucket, encrypted, with no local copy and no lock left behind
    client = s3()
    head = client.head_object(Bucket=backend.bucket, Key=backend.key)
    assert head["ServerSideEncryption"] == "AES256"
    state = json.loads(client.get_object(Bucket=backend.bucket, Key=backend.key)["Body"].read())
    assert [r["type"] for r in state["resources"]] == ["terraform_data"]
    assert not (root / "terraform.tfstate").exists()
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=backend.bucket).get("Contents", [])]
    assert keys == [backend.key]
    # And a lock file held by someone else stops the next run (S3 native locking, no DynamoDB)
    client.put_object(Bucket=backend.bucket, Key=f"{backend.key}.tflock", Body=json.dumps({"ID": "other"}).encode())
    held = tf.run(["plan", "-no-color", "-input=false", "-lock-timeout=0s"], ok=(1,))
    assert "Error acquiring the state lock" in held.stderr


@needs_make
def test_make_state_backend_creates_then_migrates() -> None:
    lines = make_dry_run("state-backend", "STATE_REGION=eu-west-1", "STATE_BUCKET=team-state")
    create = next(i for i, line in enumerate(lines) if "-m scripts.ops.state_backend" in line)
    assert "--tf-dir terraform --region eu-west-1" in lines[create] and "--bucket team-state" in lines[create]
    assert lines[-1].endswith("-chdir=terraform init -migrate-state")
    assert create < len(lines) - 1
