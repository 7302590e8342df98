"""Upgrade the running ingester in place (``make upgrade-ingester``): upload the bundle, run the install on the box.

1. Upload ``dist/ingester-bundle.tar.gz`` (``make build``) to the bundle's key in the artifacts bucket (versioned:
   earlier bundles stay as older versions).
2. Run the stack's upgrade document (``terraform/modules/ingester/upgrade.tf``) on the instance with Run Command,
   its one parameter ``BundleSha256`` the SHA-256 of what was uploaded. On the box, as root, the document's script
   (the user data's) rewrites the env file from the current Terraform settings, downloads the bundle, checks the
   SHA-256 (a concurrent upload fails the check instead of installing something else), and runs ``install.sh``:
   ``systemctl stop`` (SIGTERM: the service flushes; what Firehose has not accepted stays in its write-ahead log
   and disk spool), install, ``systemctl start`` (the new code adopts the WAL and drains the spool). The instance,
   its disk and its backlog are kept.
3. Wait for the command invocation's result, printing each status change; on failure print one line with the
   status and the end of the script's error output (``make logs`` and the Run Command console show the rest).

The bucket, key, document, instance and region come from the flags, else from the Terraform outputs
``artifacts_bucket_name``, ``ingester_bundle_key``, ``ingester_upgrade_document_name``, ``ingester_instance_id``,
``aws_region`` (then env ``AWS_REGION``). What the caller needs in IAM is the output
``ingester_upgrade_operator_policy_json``: s3:PutObject on the key, ssm:SendCommand on that document and that
instance, ssm:GetCommandInvocation.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from scripts.ops.cli_support import EXIT_CODES, print_error, tool_parser
from scripts.ops.tf_outputs import TerraformOutputsError, add_terraform_arguments, resolver_for

DEFAULT_BUNDLE = Path(__file__).resolve().parents[2] / "dist" / "ingester-bundle.tar.gz"
#: The document's one parameter (terraform/modules/ingester/upgrade.tf).
SHA_PARAMETER = "BundleSha256"
#: Run Command statuses that end an invocation (GetCommandInvocation ``Status``).
FINAL_STATUSES = frozenset({"Success", "Cancelled", "TimedOut", "Failed"})
#: How much of the script's output a failure line quotes (its last lines).
TAIL_CHARS = 600


class UpgradeError(RuntimeError):
    """A failure the tool reports as one line."""


@dataclass(frozen=True)
class Target:
    bucket: str
    key: str
    document: str
    instance_id: str
    region: str


@dataclass(frozen=True)
class Outcome:
    status: str
    details: str
    stdout: str
    stderr: str


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _error_code(exc: Exception) -> str:
    response: Any = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", type(exc).__name__))
    return type(exc).__name__


def _aws_failure(action: str, exc: Exception) -> UpgradeError:
    from botocore.exceptions import NoCredentialsError, NoRegionError

    if isinstance(exc, NoCredentialsError):
        return UpgradeError(f"no AWS credentials found for {action} (set AWS_PROFILE, or run aws sso login)")
    if isinstance(exc, NoRegionError):
        return UpgradeError("no AWS region: pass --region")
    return UpgradeError(f"{action} failed: {_error_code(exc)}: {exc}")


def upload_bundle(s3: Any, target: Target, bundle: Path, sha256: str) -> str:
    """PutObject at the bundle's key (the bucket's default encryption applies); returns the new version id."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        with bundle.open("rb") as body:
            response = s3.put_object(
                Bucket=target.bucket,
                Key=target.key,
                Body=body,
                ContentType="application/gzip",
                Metadata={"sha256": sha256},
            )
    except (BotoCoreError, ClientError) as exc:
        raise _aws_failure(f"uploading the bundle to s3://{target.bucket}/{target.key}", exc) from None
    return str(response.get("VersionId") or "")


def send_upgrade(ssm: Any, target: Target, sha256: str, *, timeout_s: int) -> str:
    """SendCommand with the upgrade document on the one instance; returns the command id."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        response = ssm.send_command(
            DocumentName=target.document,
            InstanceIds=[target.instance_id],
            Parameters={SHA_PARAMETER: [sha256]},
            TimeoutSeconds=timeout_s,
            Comment=f"make upgrade-ingester {sha256[:12]}",
        )
    except (BotoCoreError, ClientError) as exc:
        raise _aws_failure(f"send-command {target.document} to {target.instance_id}", exc) from None
    return str(response["Command"]["CommandId"])


def wait_for_invocation(
    ssm: Any,
    command_id: str,
    instance_id: str,
    *,
    timeout_s: float,
    poll_s: float,
    out: TextIO,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Outcome:
    """Poll GetCommandInvocation until the invocation ends (or ``timeout_s`` passes), printing each new status.

    Right after SendCommand the invocation may not exist yet (``InvocationDoesNotExist``): that is waited out
    like ``Pending``; any other error ends the wait.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    deadline = clock() + timeout_s
    last = ""
    while True:
        try:
            response = ssm.get_command_invocation(CommandId=command_id, InstanceId=instance_id)
        except ClientError as exc:
            if _error_code(exc) != "InvocationDoesNotExist":
                raise _aws_failure(f"get-command-invocation {command_id}", exc) from None
            response = {"Status": "Pending", "StatusDetails": "not delivered yet"}
        except BotoCoreError as exc:
            raise _aws_failure(f"get-command-invocation {command_id}", exc) from None
        status = str(response.get("Status", ""))
        details = str(response.get("StatusDetails", ""))
        if status != last:
            print(f"  {status} ({details})" if details and details != status else f"  {status}", file=out, flush=True)
            last = status
        if status in FINAL_STATUSES:
            return Outcome(
                status,
                details,
                str(response.get("StandardOutputContent", "")),
                str(response.get("StandardErrorContent", "")),
            )
        if clock() >= deadline:
            raise UpgradeError(
                f"command {command_id} still {status} after {timeout_s:.0f} s; it goes on running on the box: "
                f"aws ssm get-command-invocation --command-id {command_id} --instance-id {instance_id}"
            )
        sleep(poll_s)


def tail(text: str, limit: int = TAIL_CHARS) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    joined = " | ".join(lines)
    return joined if len(joined) <= limit else "..." + joined[-limit:]


def build_parser() -> argparse.ArgumentParser:
    p = tool_parser(
        "make upgrade-ingester",
        "Upload the ingester bundle and install it on the running instance through Run Command, keeping the "
        "instance, its write-ahead log and its disk spool.",
        codes={
            **EXIT_CODES,
            1: "failed: missing bundle or Terraform output, AWS error, or the install on the box failed or timed "
            "out (one line on stderr)",
        },
    )
    add_terraform_arguments(p)
    p.add_argument("--bundle", type=Path, default=DEFAULT_BUNDLE, help="bundle to install (default: %(default)s)")
    p.add_argument("--bucket", help="bundle bucket; default: output artifacts_bucket_name")
    p.add_argument("--key", help="bundle key; default: output ingester_bundle_key")
    p.add_argument("--document", help="upgrade document; default: output ingester_upgrade_document_name")
    p.add_argument("--instance-id", help="instance; default: output ingester_instance_id")
    p.add_argument("--region", help="AWS region; default: output aws_region, else env AWS_REGION")
    p.add_argument(
        "--timeout", type=int, default=900, help="seconds to wait for the install on the box (default: %(default)s)"
    )
    p.add_argument(
        "--poll-interval", type=float, default=3.0, help="seconds between status polls (default: %(default)s)"
    )
    return p


def resolve_target(args: argparse.Namespace, environ: Mapping[str, str]) -> Target:
    resolver = resolver_for(args, environ)
    return Target(
        bucket=resolver.require(args.bucket, flag="--bucket", output="artifacts_bucket_name"),
        key=resolver.require(args.key, flag="--key", output="ingester_bundle_key"),
        document=resolver.require(args.document, flag="--document", output="ingester_upgrade_document_name"),
        instance_id=resolver.require(args.instance_id, flag="--instance-id", output="ingester_instance_id"),
        region=resolver.require(args.region, flag="--region", output="aws_region", env="AWS_REGION"),
    )


def make_clients(region: str) -> tuple[Any, Any]:
    """The S3 and SSM clients; a broken AWS configuration (unknown AWS_PROFILE, bad config file) is one line."""
    import boto3
    from botocore.exceptions import BotoCoreError

    try:
        return boto3.client("s3", region_name=region), boto3.client("ssm", region_name=region)
    except BotoCoreError as exc:
        raise UpgradeError(f"AWS configuration error: {exc}") from None


def upgrade(
    target: Target,
    bundle: Path,
    *,
    s3: Any,
    ssm: Any,
    timeout_s: int,
    poll_s: float,
    out: TextIO,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """Upload, send, wait; raises :class:`UpgradeError` unless the invocation ended in ``Success``."""
    if not bundle.is_file():
        raise UpgradeError(f"no bundle at {bundle}: run make build first (make upgrade-ingester does)")
    sha256 = sha256_of(bundle)
    print(f"upload {bundle.name} (sha256 {sha256}) to s3://{target.bucket}/{target.key}", file=out, flush=True)
    version = upload_bundle(s3, target, bundle, sha256)
    if version:
        print(f"  version {version}", file=out, flush=True)
    print(f"run {target.document} on {target.instance_id} ({target.region})", file=out, flush=True)
    command_id = send_upgrade(ssm, target, sha256, timeout_s=timeout_s)
    print(f"  command {command_id}", file=out, flush=True)
    outcome = wait_for_invocation(
        ssm, command_id, target.instance_id, timeout_s=timeout_s + 60, poll_s=poll_s, out=out, sleep=sleep
    )
    if outcome.status != "Success":
        where = tail(outcome.stderr) or tail(outcome.stdout) or "no output"
        raise UpgradeError(
            f"the install on {target.instance_id} ended {outcome.status} ({outcome.details}); install.sh starts "
            f"the service again either way (check it with make logs); command {command_id}: {where}"
        )
    return outcome


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    prog = "make upgrade-ingester"
    try:
        target = resolve_target(args, os.environ if environ is None else environ)
        s3, ssm = make_clients(target.region)
        outcome = upgrade(
            target, args.bundle, s3=s3, ssm=ssm, timeout_s=args.timeout, poll_s=args.poll_interval, out=sys.stdout
        )
    except (UpgradeError, TerraformOutputsError, OSError) as exc:
        print_error(prog, exc)
        return 1
    last = tail(outcome.stdout, 300)
    print(f"upgraded {target.instance_id}: {last}" if last else f"upgraded {target.instance_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
