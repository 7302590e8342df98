"""Create, or bring up to date, the S3 bucket that holds the Terraform state, and point the root module at it.

``make state-backend`` runs ``python -m scripts.ops.state_backend --tf-dir terraform``, then
``terraform init -migrate-state`` (which offers to copy an existing local state into the bucket).

The bucket: versioned (every state write is kept for ``NONCURRENT_DAYS`` days, to recover from a bad apply),
encrypted by default with SSE-S3 (``--kms-key-arn`` switches to SSE-KMS with that key), public access blocked,
ACLs disabled (bucket owner enforced), and a bucket policy that denies any request without TLS 1.2 or newer.
Locking uses S3 itself: the backend's ``use_lockfile = true`` (Terraform >= 1.10) writes a ``.tflock`` object
with a conditional write, so no DynamoDB table is needed.

The root module stays on local state until this runs: the ``backend "s3"`` block is written here, complete, as
``<tf-dir>/backend.tf``, so a plain ``terraform init`` works with it and without it (a committed partial
``backend "s3" {}`` would make every ``terraform init`` without ``-backend-config`` ask for the bucket).

Failure policy: every step is idempotent. An existing bucket of this account is reconfigured to the settings
above (a second run changes nothing); a bucket name owned by another account, a missing Region or any AWS error
stops the script with exit 1 and one line naming the step and the fix; ``backend.tf`` is written only after the
bucket is fully configured, so a failed run never points Terraform at a half-made bucket.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scripts.ops.cli_support import EXIT_CODES, print_error, tool_parser

DEFAULT_TF_DIR = Path(__file__).resolve().parents[2] / "terraform"
DEFAULT_NAME_PREFIX = "tweet-sentiment"
BACKEND_FILE = "backend.tf"
NONCURRENT_DAYS = 90  # old state versions kept this long
NEWER_NONCURRENT_VERSIONS = 20  # and at least this many of them, however old
BUCKET_NAME_MAX = 63  # S3 limit


Say = Callable[[str], None]  # where progress lines go (print)


class BackendError(RuntimeError):
    """A step failed; the message names it and says what to do."""


@dataclass(frozen=True)
class Backend:
    bucket: str
    key: str
    region: str
    kms_key_arn: str | None = None

    def render(self) -> str:
        """``backend.tf``, formatted as ``terraform fmt`` would (the ``=`` of adjacent attributes aligned)."""
        attributes: list[tuple[str, str]] = [
            ("bucket", json.dumps(self.bucket)),
            ("key", json.dumps(self.key)),
            ("region", json.dumps(self.region)),
            ("encrypt", "true"),
            ("use_lockfile", "true"),
        ]
        if self.kms_key_arn:
            attributes.append(("kms_key_id", json.dumps(self.kms_key_arn)))
        width = max(len(name) for name, _ in attributes)
        body = "\n".join(f"    {name.ljust(width)} = {value}" for name, value in attributes)
        return (
            "# Written by `make state-backend` (scripts/ops/state_backend.py). The state is in S3: encrypted,\n"
            "# versioned and locked by a lock file beside it (use_lockfile, S3 conditional writes).\n"
            "# To return to local state, delete this file and run `terraform init -migrate-state`.\n"
            f'terraform {{\n  backend "s3" {{\n{body}\n  }}\n}}\n'
        )


def default_bucket_name(name_prefix: str, account: str, region: str) -> str:
    return f"{name_prefix}-tfstate-{account}-{region}"


def tls_only_policy(bucket: str) -> dict[str, Any]:
    resources = [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyWithoutTls",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": resources,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            {
                "Sid": "DenyTlsOlderThan12",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": resources,
                "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}},
            },
        ],
    }


def encryption_rule(kms_key_arn: str | None) -> dict[str, Any]:
    if kms_key_arn:
        return {
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": kms_key_arn},
            "BucketKeyEnabled": True,
        }
    return {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}


def lifecycle_rules() -> list[dict[str, Any]]:
    return [
        {
            "ID": "old-state-versions",
            "Status": "Enabled",
            "Filter": {"Prefix": ""},
            "NoncurrentVersionExpiration": {
                "NoncurrentDays": NONCURRENT_DAYS,
                "NewerNoncurrentVersions": NEWER_NONCURRENT_VERSIONS,
            },
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
        }
    ]


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def ensure_bucket(s3: Any, bucket: str, region: str, account: str, say: Say) -> None:
    """Create the bucket unless this account already owns it; refuse a name another account holds."""
    from botocore.exceptions import ClientError

    try:
        s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=account)
        say(f"bucket {bucket}: exists in account {account}")
        return
    except ClientError as exc:
        if _error_code(exc) not in ("404", "NoSuchBucket", "NotFound"):
            raise BackendError(
                f"bucket {bucket} exists but not in account {account} (or is not readable): "
                "pass --bucket (STATE_BUCKET=...) with another name"
            ) from exc
    params: dict[str, Any] = {"Bucket": bucket, "ObjectOwnership": "BucketOwnerEnforced"}
    if region != "us-east-1":  # us-east-1 refuses an explicit LocationConstraint
        params["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**params)
    say(f"bucket {bucket}: created in {region}")


def configure_bucket(s3: Any, bucket: str, account: str, kms_key_arn: str | None, say: Say) -> None:
    owner = {"ExpectedBucketOwner": account}
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
        **owner,
    )
    s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}, **owner
    )
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}, **owner)
    s3.put_bucket_encryption(
        Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [encryption_rule(kms_key_arn)]}, **owner
    )
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(tls_only_policy(bucket)), **owner)
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": lifecycle_rules()}, **owner)
    encryption = f"SSE-KMS with {kms_key_arn}" if kms_key_arn else "SSE-S3"
    say(
        f"bucket {bucket}: public access blocked, ACLs disabled, versioned (old versions kept {NONCURRENT_DAYS} days), "
        f"{encryption}, TLS 1.2+ only"
    )


def write_backend_file(tf_dir: Path, backend: Backend, say: Say) -> Path:
    path = tf_dir / BACKEND_FILE
    text = backend.render()
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        say(f"{path}: unchanged")
    else:
        path.write_text(text, encoding="utf-8")
        say(f"{path}: written (s3://{backend.bucket}/{backend.key}, lock file beside it)")
    return path


def run(
    tf_dir: Path,
    *,
    region: str | None,
    bucket: str | None,
    key: str | None,
    name_prefix: str,
    kms_key_arn: str | None,
    say: Say = print,
) -> Backend:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    session = boto3.session.Session(region_name=region or None)
    region = session.region_name
    if not region:
        raise BackendError("no AWS Region: pass --region (STATE_REGION=...) or set AWS_REGION")
    try:
        account = str(session.client("sts").get_caller_identity()["Account"])
        name = bucket or default_bucket_name(name_prefix, account, region)
        if len(name) > BUCKET_NAME_MAX:
            raise BackendError(f"bucket name {name} is longer than {BUCKET_NAME_MAX} characters: pass --bucket")
        s3 = session.client("s3")
        ensure_bucket(s3, name, region, account, say)
        configure_bucket(s3, name, account, kms_key_arn, say)
    except (ClientError, BotoCoreError) as exc:
        raise BackendError(f"AWS refused a step ({exc}); check the credentials and their S3 permissions") from exc
    backend = Backend(
        bucket=name, key=key or f"{name_prefix}/terraform.tfstate", region=region, kms_key_arn=kms_key_arn
    )
    write_backend_file(tf_dir, backend, say)
    return backend


def main(argv: Sequence[str] | None = None) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    parser = tool_parser(
        "python -m scripts.ops.state_backend",
        "Create the encrypted S3 state bucket and write terraform/backend.tf.",
        codes={**EXIT_CODES, 1: "failed: the message names the step and the fix (nothing half-made is used)"},
    )
    parser.add_argument("--tf-dir", type=Path, default=DEFAULT_TF_DIR, help="the Terraform root (default: terraform/)")
    parser.add_argument("--region", help="Region of the bucket (default: AWS_REGION / the AWS CLI profile's)")
    parser.add_argument("--bucket", help="bucket name (default: <name-prefix>-tfstate-<account id>-<region>)")
    parser.add_argument("--key", help="state object key (default: <name-prefix>/terraform.tfstate)")
    parser.add_argument("--name-prefix", default=DEFAULT_NAME_PREFIX, help="names the bucket and key by default")
    parser.add_argument("--kms-key-arn", help="encrypt with this KMS key (SSE-KMS) instead of SSE-S3")
    args = parser.parse_args(argv)
    try:
        run(
            args.tf_dir,
            region=args.region,
            bucket=args.bucket,
            key=args.key,
            name_prefix=args.name_prefix,
            kms_key_arn=args.kms_key_arn,
        )
    except (BackendError, BotoCoreError, ClientError) as exc:
        print_error(parser.prog, exc)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
