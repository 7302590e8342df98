"""First boot of the ingester box under a real systemd: the rendered user data installs as root, systemd runs
the service as its own user, and nothing is lost across stop, SIGKILL and a late bearer token.

What is real: the user-data script that ``terraform/modules/ingester`` renders (applied against the moto server
and read back with EC2 DescribeInstanceAttribute, i.e. exactly what the instance would receive); the bundle
that ``scripts/packaging/build_ingester_bundle.py`` builds (pure Python, the same for every architecture); install.sh;
the unit with all its hardening; systemd 252 (Debian 12) booted with systemd-nspawn; an aws CLI. The user data runs as a
transient root service of that systemd, as cloud-init runs it (umask 0022, no terminal).

What stands in for AWS, and why:

* The moto server is Firehose, S3, SSM and EC2. The user data's ``aws`` commands reach it through
  AWS_ENDPOINT_URL and dummy credentials given to the user-data run (on EC2: the instance profile via IMDS).
* The service gets the same through a drop-in, ``tweet-ingester.service.d/boot-test.conf``, written before the
  user data runs: AWS_ENDPOINT_URL, dummy AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY and X_API_BASE_URL (a fake
  X API on 127.0.0.1, tests/support/fake_x.py). It sets nothing else: every line of the unit as
  shipped, hardening included, applies; every other setting comes from the env file the user data wrote.
* The X bearer token's SSM parameter is absent when the service starts (as on a fresh deploy, before the
  operator has put the token) and is created while the service runs.
* The drop-in also points the service's Firehose client (AWS_ENDPOINT_URL_FIREHOSE) at a pass-through proxy to
  the moto server that the upgrade test switches to answering 503 ServiceUnavailableException, as Firehose does
  when it refuses a call, so that a backlog builds up in the spool.
* The state EBS volume is a loop device over a sparse file, bound into the container; the test plays udev and
  links it as /dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_<volume id without the dash>, the name a Nitro
  instance gives the volume Terraform created (in moto). The user data formats and mounts it as on EC2.
* Run Command: moto records a SendCommand but runs nothing, so the upgrade test runs the upgrade document's
  script the way the SSM agent does: the document read back from SSM (as Terraform created it), its
  ``{{ BundleSha256 }}`` parameter checked against the document's allowedPattern and substituted, the lines
  written to a script file and run as root by a service of the box's systemd (the agent is one).
  tests/unit/upgrade_ingester checks the SendCommand and the wait of ``make upgrade-ingester`` itself.

The tests run in order on one booted container; each needs the ones before it.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import shutil
import sys
import tarfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import ClientError

from scripts.ops import upgrade_ingester
from tests.support import nspawn
from tests.support.commands import run
from tests.support.fake_x import Connection, FakeX, serve
from tests.support.ingester import stream_message, tweet_id
from tests.support.net import QuietHandler, http_server
from tests.support.paths import REPO_ROOT
from tests.support.terraform import (
    MODULES_DIR,
    MOTO_CREDENTIALS,
    Terraform,
    moto_provider_override,
    write_cli_config,
)
from tests.support.terraform import MOTO_REGION as REGION
from tests.support.terraform import unavailable_reason as terraform_unavailable

pytestmark = [pytest.mark.boot, pytest.mark.terraform, pytest.mark.moto_server, pytest.mark.slow]

SERVICE = "tweet-ingester"
STREAM = "tweet-sentiment-boot"
DESTINATION_BUCKET = "tweet-sentiment-boot-delivered"
ARTIFACTS_BUCKET = "tweet-sentiment-boot-artifacts"
TOKEN_PARAMETER = "/tweet-sentiment/x-bearer-token"
TOKEN = "boot-test-token"
STATE = Path("var/lib/tweet-ingester")  # the unit's StateDirectory, inside the container's root
USER_DATA = "/var/lib/cloud/instance/scripts/part-001"  # where cloud-init keeps a user-data script
RUN_COMMAND_SCRIPT = "/var/lib/amazon/ssm/boot-test/document/orchestration/upgrade/installBundle/_script.sh"
UPGRADED_VERSION_SUFFIX = "+upgrade-test"
BURST = 100  # tweets per burst
TOKEN_REREAD_S = 60  # the ingester re-reads a missing token parameter at least once a minute


def burst(index: int) -> list[tuple[str, object]]:
    return [("line", stream_message(i)) for i in range(index * BURST, (index + 1) * BURST)]


def ids_of(*bursts: int) -> set[str]:
    return {tweet_id(i) for b in bursts for i in range(b * BURST, (b + 1) * BURST)}


def wait_for(what: str, condition: Callable[[], Any], timeout: float, interval: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


@dataclass
class Machine:
    container: nspawn.Container
    fake: FakeX
    gates: list[threading.Event]
    endpoint: str
    user_data: str
    install: nspawn.Result
    tf_dir: Path  # the small Terraform root whose outputs `make x-token`'s tool reads
    firehose: FirehoseSwitch
    bundle: Path
    state_device: str  # the loop device standing in for the state EBS volume
    bundle_sha256: str = ""  # of the bundle the upgrade test installed
    timings: dict[str, float] = field(default_factory=dict)
    passed: set[str] = field(default_factory=set)

    def __repr__(self) -> str:  # keeps pytest's failure reports readable
        return f"Machine(root={self.container.root}, passed={sorted(self.passed)})"

    def root_script_environment(self) -> dict[str, str]:
        """What a root script on the box (cloud-init's user data, the SSM agent's command) gets from the instance
        profile on EC2: here the moto server and dummy credentials."""
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint, **MOTO_CREDENTIALS)

    def require(self, *tests: str) -> None:
        missing = [t for t in tests if t not in self.passed]
        if missing:
            pytest.fail(f"needs {', '.join(missing)} to pass first (the tests share one booted machine, in order)")

    def delivered(self) -> list[str]:
        """Tweet ids in the Firehose stream's S3 destination (duplicates kept: delivery is at-least-once)."""
        s3 = self.client("s3")
        decoder = json.JSONDecoder()
        ids = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=DESTINATION_BUCKET):
            for obj in page.get("Contents", []):
                body = s3.get_object(Bucket=DESTINATION_BUCKET, Key=obj["Key"])["Body"].read().decode()
                pos = 0
                while pos < len(body):
                    item, pos = decoder.raw_decode(body, pos)
                    ids.append(str(item["tweet"]["id"]))
        return ids

    def wal_ids(self) -> set[str]:
        """Tweet ids in the service's write-ahead log, read from the host (the container root is a directory)."""
        return self.state_ids("wal/*.log")

    def state_ids(self, *patterns: str) -> set[str]:
        """Tweet ids in the state directory's files matching ``patterns`` (WAL segments, spool segments)."""
        ids = set()
        state = self.container.view(f"/{STATE}")  # the state volume is mounted inside the container only
        segments = [p for pattern in patterns for p in state.glob(pattern)]
        for segment in segments:
            for line in segment.read_text(errors="replace").splitlines():
                try:
                    ids.add(str(json.loads(line)["tweet"]["id"]))
                except (ValueError, KeyError, TypeError):  # a line being written right now
                    continue
        return ids

    def show(self, *props: str) -> dict[str, str]:
        return self.container.show(SERVICE, *props)

    def messages(self) -> list[str]:
        return [str(e.get("MESSAGE", "")) for e in self.container.journal(SERVICE)]

    def diagnostics(self) -> str:
        return f"--- journal of {SERVICE} ---\n{self.container.journal_text(SERVICE)}"


# ---------------------------------------------------------------------------------------------------
# Setting up: the emulated account, the module applied, the bundle, the booted container, the user data
# ---------------------------------------------------------------------------------------------------


BUNDLE_SOURCES = {
    "install.sh": "ingester/deploy/install.sh",
    "tweet-ingester.service": "ingester/systemd/tweet-ingester.service",
    "requirements.txt": "ingester/requirements.txt",
}


def host_bundle(tmp: Path) -> Path:
    """dist/ingester-bundle.tar.gz if it was built from the current sources, else one built now by the same
    script (the bundle is architecture-independent, so `make build`'s bundle is the one a real box gets)."""
    dist = REPO_ROOT / "dist" / "ingester-bundle.tar.gz"
    if dist.is_file():
        with tarfile.open(dist) as tar:
            member = tar.extractfile("BUNDLE.json")
            manifest = json.loads(member.read()) if member is not None else {}
        sources = {
            name: REPO_ROOT / (BUNDLE_SOURCES.get(name) or name)
            for name in manifest.get("files", {})
            if name in BUNDLE_SOURCES or name.startswith("ingester/")
        }
        current = all(
            path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == manifest["files"][name]
            for name, path in sources.items()
        )
        if manifest.get("platform") == "any" and sources and current:
            return dist
    out = tmp / "ingester-bundle.tar.gz"
    run([sys.executable, "scripts/packaging/build_ingester_bundle.py", "--output", str(out)], timeout=600, check=True)
    return out


def prepare_account(endpoint: str) -> dict[str, str]:
    """What the root module would create around the ingester module: buckets, the stream, the instance profile."""

    def client(service: str) -> Any:
        return boto3.client(service, endpoint_url=endpoint, **MOTO_CREDENTIALS)

    s3 = client("s3")
    s3.create_bucket(Bucket=ARTIFACTS_BUCKET)
    s3.create_bucket(Bucket=DESTINATION_BUCKET)
    client("firehose").create_delivery_stream(
        DeliveryStreamName=STREAM,
        DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::123456789012:role/firehose",
            "BucketARN": f"arn:aws:s3:::{DESTINATION_BUCKET}",
        },
    )
    iam = client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    iam.create_role(RoleName="tweet-ingester-boot", AssumeRolePolicyDocument=json.dumps(trust))
    iam.create_instance_profile(InstanceProfileName="tweet-ingester-boot")
    iam.add_role_to_instance_profile(InstanceProfileName="tweet-ingester-boot", RoleName="tweet-ingester-boot")
    ec2 = client("ec2")
    subnet = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"][0]
    arch = "arm64" if nspawn.host_arch() == "aarch64" else "x86_64"
    images = ec2.describe_images(Filters=[{"Name": "architecture", "Values": [arch]}])["Images"]
    ami = next(i["ImageId"] for i in images if len(i["ImageId"]) >= 12)
    return {
        "subnet_id": subnet["SubnetId"],
        "ami_id": ami,
        "instance_type": "t4g.small" if arch == "arm64" else "t3.small",
        "architecture": arch,
    }


# The module's outputs the tests read: the instance, what `make x-token` reads, what the upgrade test uses.
MODULE_OUTPUTS = (
    "instance_id",
    "x_bearer_token_parameter_name",
    "x_bearer_token_kms_key_alias",
    "upgrade_document_name",
    "bundle_key",
    "state_volume_id",
)


def apply_module(endpoint: str, work: Path, bundle: Path, account: dict[str, str]) -> tuple[str, str]:
    """Apply terraform/modules/ingester (unchanged) from a small root; return the instance's user data and the
    ID of its state volume."""
    root = work / "tf"
    shutil.copytree(MODULES_DIR / "ingester", root / "modules" / "ingester")
    (root / "main.tf").write_text(
        f"""# Written by tests/integration/boot: the ingester module alone, against the moto server.
provider "aws" {{
  region = "{REGION}"
}}

module "ingester" {{
  source = "./modules/ingester"

  name                          = "tweet-ingester-boot"
  subnet_id                     = "{account["subnet_id"]}"
  ami_id                        = "{account["ami_id"]}"
  instance_type                 = "{account["instance_type"]}"
  architecture                  = "{account["architecture"]}"
  instance_profile_name         = "tweet-ingester-boot"
  instance_role_arn             = "arn:aws:iam::123456789012:role/tweet-ingester-boot"
  artifacts_bucket_name         = "{ARTIFACTS_BUCKET}"
  bundle_path                   = "{bundle}"
  delivery_stream_name          = "{STREAM}"
  tracked_terms                 = ["aws", "machine learning"]
  x_bearer_token_parameter_name = "{TOKEN_PARAMETER}"
  # The deleter's domain: nothing here is deleted (no tombstone), so it is never called from the container.
  opensearch_endpoint = "search-tweets-boot-abc123.{REGION}.es.amazonaws.com"
}}

output "aws_region" {{
  value = "{REGION}"
}}
"""
        + "".join(f'\noutput "{name}" {{\n  value = module.ingester.{name}\n}}\n' for name in MODULE_OUTPUTS),
        encoding="utf-8",
    )
    (root / "moto_override.tf").write_text(
        moto_provider_override(endpoint, ("ec2", "iam", "kms", "s3", "ssm", "sts")), encoding="utf-8"
    )
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_PROFILE": "",
    }
    tf = Terraform(root, write_cli_config(work / "cli"), env)
    tf.init()
    tf.run(["apply", "-auto-approve", "-no-color", "-input=false"])
    outputs = json.loads(tf.run(["output", "-json"]).stdout)
    ec2 = boto3.client("ec2", endpoint_url=endpoint, **MOTO_CREDENTIALS)
    instance_id = outputs["instance_id"]["value"]
    raw = ec2.describe_instance_attribute(InstanceId=instance_id, Attribute="userData")["UserData"]["Value"]
    return base64.b64decode(raw).decode(), outputs["state_volume_id"]["value"]


def drop_in(root: Path, endpoint: str, x_url: str, firehose_url: str) -> None:
    """The test's stand-in for IMDS credentials, the X API's and Firehose's addresses; nothing else changes."""
    directory = root / "etc" / "systemd" / "system" / f"{SERVICE}.service.d"
    directory.mkdir(parents=True)
    (directory / "boot-test.conf").write_text(
        "# Written by tests/integration/boot (not shipped): on EC2 the credentials come from the instance\n"
        "# profile (IMDS) and the X API is api.twitter.com.\n"
        "[Service]\n"
        f"Environment=AWS_ENDPOINT_URL={endpoint}\n"
        "Environment=AWS_ACCESS_KEY_ID=testing\n"
        "Environment=AWS_SECRET_ACCESS_KEY=testing\n"
        f"Environment=AWS_ENDPOINT_URL_FIREHOSE={firehose_url}\n"
        f"Environment=X_API_BASE_URL={x_url}\n",
        encoding="utf-8",
    )


@dataclass
class FirehoseSwitch:
    """Firehose for the service: the moto server's, passed through, until ``refusing`` is set; then every call is
    answered 503 ServiceUnavailableException (what Firehose answers when it does not accept a call)."""

    upstream: str
    refusing: threading.Event = field(default_factory=threading.Event)
    refused: int = 0
    url: str = ""


@contextmanager
def serve_firehose(switch: FirehoseSwitch) -> Iterator[FirehoseSwitch]:
    class Handler(QuietHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if switch.refusing.is_set():
                switch.refused += 1
                status = 503
                payload = json.dumps({"__type": "ServiceUnavailableException", "message": "Slow down."}).encode()
                content_type = "application/x-amz-json-1.1"
            else:
                skip = {"host", "content-length", "connection", "accept-encoding"}
                headers = {k: v for k, v in self.headers.items() if k.lower() not in skip}
                answer = requests.post(self.upstream_url(), data=body, headers=headers, timeout=30)
                status, payload = answer.status_code, answer.content
                content_type = answer.headers.get("Content-Type", "application/x-amz-json-1.1")
            self.reply(status, payload, content_type)

        def upstream_url(self) -> str:
            return switch.upstream.rstrip("/") + self.path

    with http_server(Handler) as url:
        switch.url = url
        yield switch


@pytest.fixture(scope="module")
def machine(
    moto_server: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Machine]:
    for reason in (nspawn.unavailable_reason(), terraform_unavailable()):
        if reason:
            pytest.skip(reason)
    timings: dict[str, float] = {}
    work = tmp_path_factory.mktemp("boot")

    start = time.monotonic()
    image, built_s = nspawn.ensure_rootfs()
    timings["rootfs (debootstrap + aws CLI; 0 = cached)"] = built_s
    timings["rootfs cache check"] = time.monotonic() - start - built_s

    start = time.monotonic()
    requests.post(f"{moto_server}/moto-api/reset", timeout=10).raise_for_status()
    bundle = host_bundle(work)
    account = prepare_account(moto_server)
    user_data, volume_id = apply_module(moto_server, work, bundle, account)
    # Terraform creates no token parameter (the operator puts it with make x-token): the service starts as on
    # a fresh deploy, without a token.
    ssm = boto3.client("ssm", endpoint_url=moto_server, **MOTO_CREDENTIALS)
    with pytest.raises(ClientError, match="ParameterNotFound"):
        ssm.get_parameter(Name=TOKEN_PARAMETER)
    timings["terraform apply of the module (moto)"] = time.monotonic() - start

    gates = [threading.Event() for _ in range(3)]
    fake = FakeX(
        token=TOKEN,
        connections=[
            Connection(steps=[*burst(0), ("gate", gates[0]), *burst(1)]),  # first start; B on the test's cue
            Connection(steps=[*burst(2)]),  # after `systemctl start`; killed with SIGKILL
            Connection(steps=[*burst(3), ("gate", gates[1]), *burst(4)]),  # after the automatic restart
            Connection(steps=[*burst(5), ("gate", gates[2]), *burst(6)]),  # after the in-place upgrade
            Connection(steps=[*burst(7)]),  # on the replacement instance
        ],
    )
    # The state volume: a loop device over a sparse file stands in for the EBS volume, bound into the container,
    # where the test plays udev's part and links it under the name a Nitro instance gives it (by-id, its serial).
    disk = work / "state-volume.img"
    with disk.open("wb") as image_file:
        image_file.truncate(256 * 1024 * 1024)
    loop = run(["losetup", "--find", "--show", str(disk)], check=True)
    device = loop.stdout.strip()
    with serve(fake), serve_firehose(FirehoseSwitch(moto_server)) as firehose:
        container = nspawn.Container(image, work / "container", binds=[device])
        try:
            start = time.monotonic()
            container.prepare()
            drop_in(container.root, moto_server, fake.url, firehose.url)
            script = container.root / USER_DATA.lstrip("/")
            script.parent.mkdir(parents=True)
            script.write_text(user_data, encoding="utf-8")
            script.chmod(0o700)
            container.boot()
            timings["boot (overlay + systemd up)"] = time.monotonic() - start
            by_id = f"/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_{volume_id.replace('-', '')}"
            container.run(["mkdir", "-p", "/dev/disk/by-id"], check=True)
            container.run(["ln", "-s", device, by_id], check=True)

            start = time.monotonic()
            install = container.run_as_service(
                [USER_DATA],
                environment={
                    "AWS_ENDPOINT_URL": moto_server,
                    "AWS_ACCESS_KEY_ID": "testing",
                    "AWS_SECRET_ACCESS_KEY": "testing",
                },
                unit="cloud-user-data",
            )
            timings["user data (download bundle, install.sh)"] = time.monotonic() - start
            result = Machine(
                container,
                fake,
                gates,
                moto_server,
                user_data,
                install,
                work / "tf",
                firehose,
                bundle,
                device,
                timings=timings,
            )
            yield result
        finally:
            start = time.monotonic()
            for gate in gates:
                gate.set()
            container.close()
            run(["losetup", "--detach", device])
            timings["power off"] = time.monotonic() - start
            request.config.stash[nspawn.TIMINGS] = timings  # printed in the terminal summary (conftest.py)


# ---------------------------------------------------------------------------------------------------
# The tests, in order
# ---------------------------------------------------------------------------------------------------


def test_user_data_installs_a_service_that_systemd_can_run_as_its_user(machine: Machine) -> None:
    # Given the rendered user data, run as root as cloud-init runs it
    assert "umask 0027" in machine.user_data  # the script keeps the env file private...
    assert machine.install.returncode == 0, machine.install.stdout[-4000:] + machine.install.stderr[-4000:]
    # Then systemd starts the service's Python as the service user (not 203/EXEC: it can execute the venv)
    uid = machine.container.run(["id", "-u", SERVICE], check=True).stdout.strip()

    def ingester_spoke() -> bool:
        for entry in machine.container.journal(SERVICE):
            message = str(entry.get("MESSAGE", ""))
            spoke = message.startswith(('{"timestamp"', "python -m ingester: configuration error"))
            if entry.get("_UID") == uid and spoke:
                return True
        return False

    start = time.monotonic()
    try:
        wait_for("the ingester's first log line as the service user", ingester_spoke, timeout=30)
    except AssertionError as exc:
        status = machine.show("ExecMainStatus", "ExecMainCode", "NRestarts", "ActiveState", "SubState")
        raise AssertionError(f"{exc}\n{status}\n{machine.diagnostics()}") from None
    machine.timings["service start to first log line"] = time.monotonic() - start
    assert "status=203/EXEC" not in "\n".join(machine.messages())
    # ...and the settings stay private to root and the service's group
    stat = machine.container.run(["stat", "-c", "%a %U %G", "/etc/tweet-ingester/ingester.env"], check=True)
    assert stat.stdout.split() == ["640", "root", SERVICE]
    stat = machine.container.run(["stat", "-c", "%a %U %G", "/etc/tweet-ingester"], check=True)
    assert stat.stdout.split() == ["750", "root", SERVICE]
    # and the state directory is the state volume (formatted on first use), owned by the service user
    assert state_mount(machine) == (machine.state_device, "ext4")
    stat = machine.container.run(["stat", "-c", "%a %U", f"/{STATE}"], check=True)
    assert stat.stdout.split() == ["700", SERVICE]
    machine.passed.add("install")


def state_mount(machine: Machine) -> tuple[str, str]:
    """(source device, filesystem type) of what is mounted on the state directory inside the container."""
    found = machine.container.run(["findmnt", "-n", "-o", "SOURCE,FSTYPE", f"/{STATE}"]).stdout.split()
    return (found[0], found[1]) if len(found) == 2 else ("", "")


def test_token_put_after_start_is_read_within_a_minute(machine: Machine) -> None:
    machine.require("install")
    # Given the service started before the token parameter exists: it waits (active), it does not exit
    time.sleep(3)
    status = machine.show("ActiveState", "SubState", "ExecMainStatus", "NRestarts")
    assert status["ActiveState"] == "active" and status["SubState"] == "running", f"{status}\n{machine.diagnostics()}"
    assert machine.fake.stream_attempts == 0
    # When the operator puts the token with the tool the README gives (make x-token: stdin, the stack's key)
    put = run(
        [sys.executable, "-m", "scripts.ops.x_token", "--tf-dir", str(machine.tf_dir)],
        input=TOKEN + "\n",
        env={**os.environ, "AWS_ENDPOINT_URL": machine.endpoint, "AWS_ACCESS_KEY_ID": "testing",
             "AWS_SECRET_ACCESS_KEY": "testing", "AWS_EC2_METADATA_DISABLED": "true"},
        timeout=120,
    )  # fmt: skip
    assert put.returncode == 0, put.stdout + put.stderr
    assert TOKEN not in put.stdout + put.stderr
    parameter = machine.client("ssm").get_parameter(Name=TOKEN_PARAMETER)["Parameter"]
    assert parameter["Type"] == "SecureString"
    start = time.monotonic()
    # Then within a minute the service reads it and connects to the stream with it
    try:
        wait_for("a stream connection", lambda: machine.fake.stream_attempts >= 1, timeout=TOKEN_REREAD_S + 5)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{machine.diagnostics()}") from None
    machine.timings["token put to stream connected"] = time.monotonic() - start
    assert f"Bearer {TOKEN}" in machine.fake.auth_headers
    # and every tweet of the first burst reaches Firehose
    start = time.monotonic()
    wait_for("burst A in S3", lambda: ids_of(0) <= set(machine.delivered()), timeout=30)
    machine.timings["burst A read to delivered"] = time.monotonic() - start
    assert machine.show("NRestarts")["NRestarts"] == "0"
    machine.passed.add("token")


def test_status_helper_works_for_the_service_user(machine: Machine) -> None:
    machine.require("token")
    command = ["sudo", "-u", SERVICE, "/opt/tweet-ingester/bin/ingester", "status"]

    # The daemon rewrites its state file every STATUS_INTERVAL_S (5 s): wait for the one after burst A's delivery
    def running_and_delivered() -> dict[str, Any] | None:
        result = machine.container.run([*command, "--json"])
        assert result.returncode == 0, result.stdout + result.stderr
        state: dict[str, Any] = json.loads(result.stdout)
        return state if state["state"] == "running" and state["delivered"] >= BURST else None

    wait_for("`ingester status --json` to count burst A delivered", running_and_delivered, timeout=20)
    result = machine.container.run(command)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "stream connected yes" in result.stdout, result.stdout
    machine.passed.add("status")


def test_stop_flushes_what_was_read_and_exits_0(machine: Machine) -> None:
    machine.require("token")
    # Given burst B read (in the write-ahead log) but not yet delivered (the writer lingers 1 s)
    machine.gates[0].set()
    wait_for("burst B in the WAL", lambda: ids_of(1) <= machine.wal_ids(), timeout=20, interval=0.02)
    # When systemd stops the service
    start = time.monotonic()
    machine.container.run(["systemctl", "stop", SERVICE], check=True, timeout=60)
    machine.timings["systemctl stop"] = time.monotonic() - start
    # Then it exited 0 and everything it read is in Firehose, without a restart
    status = machine.show("ExecMainCode", "ExecMainStatus", "Result", "ActiveState")
    assert status == {"ExecMainCode": "1", "ExecMainStatus": "0", "Result": "success", "ActiveState": "inactive"}, (
        f"{status}\n{machine.diagnostics()}"
    )
    assert ids_of(0, 1) <= set(machine.delivered())
    machine.passed.add("stop")


def test_sigkill_is_followed_by_a_restart_that_adopts_the_wal(machine: Machine) -> None:
    machine.require("stop")
    machine.container.run(["systemctl", "start", SERVICE], check=True, timeout=60)
    # Given burst C read into the write-ahead log, not yet delivered
    wait_for("burst C in the WAL", lambda: ids_of(2) <= machine.wal_ids(), timeout=60, interval=0.02)
    before = machine.show("MainPID", "NRestarts")
    # When the process is killed outright
    machine.container.run(["systemctl", "kill", "--signal=KILL", SERVICE], check=True)
    wait_for("the kill", lambda: machine.show("ExecMainCode")["ExecMainCode"] == "2", timeout=10, interval=0.1)
    killed_at = time.monotonic()
    assert machine.show("ExecMainStatus")["ExecMainStatus"] == "9"
    in_wal = machine.wal_ids()
    assert ids_of(2) <= in_wal
    # Then systemd restarts it (RestartSec=10), the new process adopts the WAL, and nothing is lost
    wait_for(
        "the automatic restart",
        lambda: (
            machine.show("NRestarts", "ActiveState", "SubState")
            == {"NRestarts": str(int(before["NRestarts"]) + 1), "ActiveState": "active", "SubState": "running"}
        ),
        timeout=40,
    )
    machine.timings["SIGKILL to restarted (RestartSec=10)"] = time.monotonic() - killed_at
    assert machine.show("MainPID")["MainPID"] != before["MainPID"]
    recovered = wait_for(
        "the WAL recovery log line",
        lambda: [m for m in machine.messages() if "from write-ahead log segment" in m],
        timeout=20,
    )
    counts = [json.loads(m)["message"].split()[1] for m in recovered]
    assert sum(int(c) for c in counts) == len(in_wal), recovered
    start = time.monotonic()
    wait_for("bursts A-D in S3", lambda: ids_of(0, 1, 2, 3) <= set(machine.delivered()), timeout=60)
    machine.timings["restart to all delivered"] = time.monotonic() - start
    machine.passed.add("kill")


def upgraded_bundle(bundle: Path, out: Path) -> Path:
    """The same bundle with another ingester version (ingester/__init__.py and its BUNDLE.json hash changed),
    so the box can tell which code runs after the upgrade."""
    with tarfile.open(bundle) as tar:
        members = [(m, tar.extractfile(m).read() if m.isfile() else b"") for m in tar.getmembers()]  # type: ignore[union-attr]
    contents = {m.name: data for m, data in members}
    init = contents["ingester/__init__.py"].decode()
    version = re.search(r'__version__ = "([^"]+)"', init)
    assert version, init
    new_init = init.replace(version.group(0), f'__version__ = "{version.group(1)}{UPGRADED_VERSION_SUFFIX}"').encode()
    manifest = json.loads(contents["BUNDLE.json"])
    manifest["files"]["ingester/__init__.py"] = hashlib.sha256(new_init).hexdigest()
    replaced = {"ingester/__init__.py": new_init, "BUNDLE.json": (json.dumps(manifest, indent=2) + "\n").encode()}
    with tarfile.open(out, "w:gz") as tar:
        for member, original in members:
            data = replaced.get(member.name, original)
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data) if member.isfile() else None)
    return out


def run_command_script(machine: Machine, document: str, parameters: dict[str, str]) -> nspawn.Result:
    """Run a Command document on the box as the SSM agent would: parameters checked against their
    allowedPattern and substituted into the aws:runShellScript lines, run as root by a service of its systemd."""
    content = json.loads(machine.client("ssm").get_document(Name=document)["Content"])
    declared = content["parameters"]
    assert set(parameters) == set(declared), (parameters, declared)
    (step,) = content["mainSteps"]
    assert step["action"] == "aws:runShellScript"
    script = "\n".join(step["inputs"]["runCommand"]) + "\n"
    for name, value in parameters.items():
        assert re.fullmatch(declared[name]["allowedPattern"], value), (name, value)
        script = re.sub(r"\{\{\s*" + name + r"\s*\}\}", value, script)
    assert "{{" not in script, "a parameter the document uses was not given"
    path = machine.container.root / RUN_COMMAND_SCRIPT.lstrip("/")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(script, encoding="utf-8")
    path.chmod(0o700)
    return machine.container.run_as_service(
        [RUN_COMMAND_SCRIPT],
        environment=machine.root_script_environment(),
        timeout=300,
        unit="ssm-run-command",
    )


def test_upgrade_in_place_keeps_the_backlog_and_runs_the_new_version(machine: Machine, tmp_path: Path) -> None:
    machine.require("kill")
    status_command = ["/opt/tweet-ingester/bin/ingester", "status", "--json"]
    before = json.loads(machine.container.run(status_command, check=True).stdout)
    # Given Firehose refusing every call, and burst E read while it does: a backlog in the WAL and the spool
    machine.firehose.refusing.set()
    machine.gates[1].set()
    wait_for("burst E in the WAL or the spool", lambda: ids_of(4) <= machine.state_ids("wal/*.log", "spool/*.jsonl"),
             timeout=30, interval=0.1)  # fmt: skip
    assert not ids_of(4) & set(machine.delivered())
    pid = machine.show("MainPID")["MainPID"]

    def stop_requests() -> int:
        return sum('"stop requested: no more reading; flushing"' in m for m in machine.messages())

    stops_before = stop_requests()
    # When `make upgrade-ingester` uploads a new bundle and Run Command runs the upgrade document on the box
    outputs = json.loads(run(["terraform", "output", "-json"], cwd=machine.tf_dir, check=True).stdout)
    assert "upgrade_document_name" in outputs, sorted(outputs)
    new_bundle = upgraded_bundle(machine.bundle, tmp_path / "ingester-bundle.tar.gz")
    sha = upgrade_ingester.sha256_of(new_bundle)
    target = upgrade_ingester.Target(
        bucket=ARTIFACTS_BUCKET, key=outputs["bundle_key"]["value"], document=outputs["upgrade_document_name"]["value"],
        instance_id=outputs["instance_id"]["value"], region=REGION,
    )  # fmt: skip
    upgrade_ingester.upload_bundle(machine.client("s3"), target, new_bundle, sha)
    start = time.monotonic()
    result = run_command_script(machine, target.document, {"BundleSha256": sha})
    machine.timings["upgrade document (stop with flush, install, start)"] = time.monotonic() - start
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "stopping tweet-ingester (SIGTERM" in result.stdout
    # Then the same box runs the new version in a new process, which found the backlog where the old one left it
    assert machine.show("MainPID")["MainPID"] != pid
    version = machine.container.run(["/opt/tweet-ingester/bin/ingester", "--version"], check=True).stdout
    assert version.strip().endswith(UPGRADED_VERSION_SUFFIX), version
    assert stop_requests() == stops_before + 1, "the old process did not stop through SIGTERM"
    assert ids_of(4) <= machine.state_ids("wal/*.log", "spool/*.jsonl") | set(machine.delivered())
    # and once Firehose accepts again, every tweet read before, during and after the upgrade is delivered
    machine.firehose.refusing.clear()
    start = time.monotonic()
    wait_for("bursts A-F in S3", lambda: ids_of(0, 1, 2, 3, 4, 5) <= set(machine.delivered()), timeout=90)
    machine.timings["Firehose back to backlog delivered"] = time.monotonic() - start
    assert machine.firehose.refused > 0
    after = wait_for(
        "status of the new version",
        lambda: (
            (s := json.loads(machine.container.run(status_command, check=True).stdout))["version"] != before["version"]
            and s
        ),
        timeout=15,
    )
    assert after["version"].endswith(UPGRADED_VERSION_SUFFIX) and after["state"] == "running"
    assert machine.show("ActiveState")["ActiveState"] == "active"
    assert state_mount(machine) == (machine.state_device, "ext4")  # still the state volume
    machine.bundle_sha256 = sha
    machine.passed.add("upgrade")


def test_a_replacement_instance_mounts_the_state_volume_and_delivers_the_backlog(machine: Machine) -> None:
    machine.require("upgrade")
    # Given a backlog: burst G read while Firehose refuses every call
    machine.firehose.refusing.set()
    machine.gates[2].set()
    wait_for("burst G in the WAL or the spool", lambda: ids_of(6) <= machine.state_ids("wal/*.log", "spool/*.jsonl"),
             timeout=30, interval=0.1)  # fmt: skip
    # When the instance is replaced: the old one is stopped before its volume is detached (systemd stops the
    # service: SIGTERM, it spools), and a new one, with a fresh root volume (no fstab line, no drop-in, nothing
    # installed), boots with the user data Terraform renders for it (the bundle of that apply: the upgraded one)
    machine.container.run(["systemctl", "stop", SERVICE], check=True, timeout=60)
    assert ids_of(6) <= machine.state_ids("spool/*.jsonl")
    machine.container.run(["umount", f"/{STATE}"], check=True)
    machine.container.run(["sed", "-i", rf"\| /{STATE} |d", "/etc/fstab"], check=True)
    drop_in = f"/etc/systemd/system/{SERVICE}.service.d/state-volume.conf"
    machine.container.run(["rm", "-rf", drop_in, "/opt/tweet-ingester", f"/{STATE}"], check=True)
    assert machine.state_ids("spool/*.jsonl") == set()  # the backlog left with the volume
    script = machine.container.root / "var/lib/cloud/instances/replacement/scripts/part-001"
    script.parent.mkdir(parents=True)
    original_sha = hashlib.sha256(machine.bundle.read_bytes()).hexdigest()
    script.write_text(machine.user_data.replace(original_sha, machine.bundle_sha256), encoding="utf-8")
    script.chmod(0o700)
    start = time.monotonic()
    boot = machine.container.run_as_service(
        ["/" + str(script.relative_to(machine.container.root))],
        environment=machine.root_script_environment(),
        unit="cloud-user-data-replacement",
    )
    machine.timings["replacement user data (mount the volume, install)"] = time.monotonic() - start
    assert boot.returncode == 0, boot.stdout[-4000:] + boot.stderr[-4000:]
    # Then the volume is mounted as it was, not formatted, and the service finds the backlog on it
    assert "formatting" not in boot.stdout + boot.stderr
    assert state_mount(machine) == (machine.state_device, "ext4")
    assert machine.container.run(["test", "-f", drop_in]).returncode == 0
    assert ids_of(6) <= machine.state_ids("wal/*.log", "spool/*.jsonl") | set(machine.delivered())
    # and once Firehose accepts again, every tweet is delivered, those read on the replacement too
    machine.firehose.refusing.clear()
    start = time.monotonic()
    wait_for("bursts A-H in S3", lambda: ids_of(*range(8)) <= set(machine.delivered()), timeout=90)
    machine.timings["replacement: Firehose back to backlog delivered"] = time.monotonic() - start
    machine.passed.add("replace")
