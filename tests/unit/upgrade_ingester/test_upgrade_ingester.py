"""scripts/ops/upgrade_ingester.py against botocore's Stubber: the exact S3 and SSM calls, the wait, the failures.

Run Command itself cannot run here (moto records a command but executes nothing): the boot test
(tests/integration/boot) runs the document's script on a booted box; this checks what the tool asks AWS for.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from scripts.ops import upgrade_ingester
from scripts.ops.upgrade_ingester import Target, UpgradeError

TARGET = Target(
    bucket="stack-bundle-123456789012-us-east-1",
    key="ingester/ingester-bundle.tar.gz",
    document="tweet-sentiment-ingester-upgrade",
    instance_id="i-0123456789abcdef0",
    region="us-east-1",
)
COMMAND_ID = "11111111-2222-3333-4444-555555555555"


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    path = tmp_path / "ingester-bundle.tar.gz"
    path.write_bytes(b"not really a tarball, but bytes with a digest" * 100)
    return path


@pytest.fixture
def clients() -> Iterator[tuple[Any, Stubber, Any, Stubber]]:
    kwargs: dict[str, Any] = {
        "region_name": "us-east-1",
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    s3 = boto3.client("s3", **kwargs)
    ssm = boto3.client("ssm", **kwargs)
    with Stubber(s3) as s3_stub, Stubber(ssm) as ssm_stub:
        yield s3, s3_stub, ssm, ssm_stub
        s3_stub.assert_no_pending_responses()
        ssm_stub.assert_no_pending_responses()


def expect_upload_and_send(s3_stub: Stubber, ssm_stub: Stubber, sha: str) -> None:
    s3_stub.add_response(
        "put_object",
        {"VersionId": "v2", "ETag": '"etag"'},
        {
            "Bucket": TARGET.bucket,
            "Key": TARGET.key,
            "Body": ANY,
            "ContentType": "application/gzip",
            "Metadata": {"sha256": sha},
        },
    )
    ssm_stub.add_response(
        "send_command",
        {"Command": {"CommandId": COMMAND_ID}},
        {
            "DocumentName": TARGET.document,
            "InstanceIds": [TARGET.instance_id],
            "Parameters": {"BundleSha256": [sha]},
            "TimeoutSeconds": 600,
            "Comment": f"make upgrade-ingester {sha[:12]}",
        },
    )


def invocation(status: str, details: str = "", stdout: str = "", stderr: str = "") -> dict[str, Any]:
    return {
        "CommandId": COMMAND_ID,
        "InstanceId": TARGET.instance_id,
        "Status": status,
        "StatusDetails": details or status,
        "StandardOutputContent": stdout,
        "StandardErrorContent": stderr,
    }


GET = {"CommandId": COMMAND_ID, "InstanceId": TARGET.instance_id}


def test_uploads_sends_the_document_with_the_bundle_sha_and_waits_for_success(
    bundle: Path, clients: tuple[Any, Stubber, Any, Stubber]
) -> None:
    s3, s3_stub, ssm, ssm_stub = clients
    sha = hashlib.sha256(bundle.read_bytes()).hexdigest()
    expect_upload_and_send(s3_stub, ssm_stub, sha)
    # Given an invocation that does not exist yet, then runs, then succeeds
    ssm_stub.add_client_error("get_command_invocation", "InvocationDoesNotExist", expected_params=GET)
    ssm_stub.add_response("get_command_invocation", invocation("InProgress"), GET)
    ssm_stub.add_response("get_command_invocation", invocation("InProgress"), GET)
    ssm_stub.add_response("get_command_invocation", invocation("Success", stdout="install.sh: installed\n"), GET)
    sleeps: list[float] = []
    out = io.StringIO()
    # When the tool upgrades
    outcome = upgrade_ingester.upgrade(
        TARGET, bundle, s3=s3, ssm=ssm, timeout_s=600, poll_s=2.0, out=out, sleep=sleeps.append
    )
    # Then it waited through every non-final status, and printed each status once
    assert outcome.status == "Success" and "installed" in outcome.stdout
    assert sleeps == [2.0, 2.0, 2.0]
    lines = out.getvalue().splitlines()
    assert lines[0] == f"upload {bundle.name} (sha256 {sha}) to s3://{TARGET.bucket}/{TARGET.key}"
    assert [line.split()[0] for line in lines[-3:]] == ["Pending", "InProgress", "Success"]
    assert f"command {COMMAND_ID}" in out.getvalue()


@pytest.mark.parametrize("status", ["Failed", "TimedOut", "Cancelled"])
def test_a_failed_install_is_one_line_with_the_end_of_its_error_output(
    bundle: Path, clients: tuple[Any, Stubber, Any, Stubber], status: str
) -> None:
    s3, s3_stub, ssm, ssm_stub = clients
    sha = hashlib.sha256(bundle.read_bytes()).hexdigest()
    expect_upload_and_send(s3_stub, ssm_stub, sha)
    stderr = "first line\n/tmp/ingester-bundle.tar.gz: FAILED\nsha256sum: WARNING: 1 computed checksum did NOT match\n"
    ssm_stub.add_response("get_command_invocation", invocation(status, "Failed", stderr=stderr), GET)
    with pytest.raises(UpgradeError) as raised:
        upgrade_ingester.upgrade(
            TARGET, bundle, s3=s3, ssm=ssm, timeout_s=600, poll_s=1.0, out=io.StringIO(), sleep=lambda s: None
        )
    message = str(raised.value)
    assert "\n" not in message
    assert f"ended {status}" in message and COMMAND_ID in message
    assert message.endswith("tar.gz: FAILED | sha256sum: WARNING: 1 computed checksum did NOT match")


def test_waiting_gives_up_at_the_timeout_and_says_how_to_follow_the_command(
    clients: tuple[Any, Stubber, Any, Stubber],
) -> None:
    _, _, ssm, ssm_stub = clients
    now = [0.0]
    for _ in range(3):
        ssm_stub.add_response("get_command_invocation", invocation("InProgress"), GET)

    def sleep(seconds: float) -> None:
        now[0] += seconds

    with pytest.raises(UpgradeError, match=r"still InProgress after 10 s.*aws ssm get-command-invocation"):
        upgrade_ingester.wait_for_invocation(
            ssm, COMMAND_ID, TARGET.instance_id, timeout_s=10, poll_s=5, out=io.StringIO(), sleep=sleep,
            clock=lambda: now[0],
        )  # fmt: skip


def test_an_access_error_while_waiting_ends_the_wait(clients: tuple[Any, Stubber, Any, Stubber]) -> None:
    _, _, ssm, ssm_stub = clients
    ssm_stub.add_client_error("get_command_invocation", "AccessDeniedException", expected_params=GET)
    with pytest.raises(UpgradeError, match=r"get-command-invocation .* failed: AccessDeniedException"):
        upgrade_ingester.wait_for_invocation(
            ssm, COMMAND_ID, TARGET.instance_id, timeout_s=10, poll_s=1, out=io.StringIO(), sleep=lambda s: None
        )


def test_a_refused_send_command_is_one_line(bundle: Path, clients: tuple[Any, Stubber, Any, Stubber]) -> None:
    s3, s3_stub, ssm, ssm_stub = clients
    s3_stub.add_response("put_object", {"VersionId": "v3"}, None)
    ssm_stub.add_client_error("send_command", "InvalidInstanceId", "Instances not in a valid state for account")
    with pytest.raises(UpgradeError, match=re.escape(f"send-command {TARGET.document} to {TARGET.instance_id} failed")):
        upgrade_ingester.upgrade(
            TARGET, bundle, s3=s3, ssm=ssm, timeout_s=600, poll_s=1, out=io.StringIO(), sleep=lambda s: None
        )


def test_main_without_outputs_or_bundle_fails_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Without Terraform outputs, the first missing setting is named with its flag
    assert upgrade_ingester.main(["--no-terraform"], environ={}) == 1
    err = capsys.readouterr().err
    assert err.startswith("make upgrade-ingester: missing setting: pass --bucket") and err.count("\n") == 1
    # With every setting but no bundle, it says to build one
    flags = ["--no-terraform", "--bucket", "b", "--key", "k", "--document", "d", "--instance-id", "i-1"]
    code = upgrade_ingester.main([*flags, "--region", "us-east-1", "--bundle", str(tmp_path / "missing.tar.gz")])
    assert code == 1
    assert "no bundle at" in capsys.readouterr().err
