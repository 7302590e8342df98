"""The bluesky example applied against moto in server mode: an example is a root a consumer can
apply, and its inputs reach the stack (the ingester reads Bluesky, the tags reach the provider's default_tags).

One apply only: the whole stack's behaviour is tested by test_moto_cycle.py on the root itself; this checks what
the example adds. The example is applied unchanged from a copy of terraform/; the test adds
``moto_override.tf`` in the root (provider at the moto server, as in the cycle) and one in the example that
shortens the domain's timeouts (the provider waits up to the create timeout before its first poll).
"""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.support import terraform as tf_support
from tests.support.paths import REPO_ROOT

pytestmark = [pytest.mark.terraform, pytest.mark.moto_server, pytest.mark.slow]

TIMEOUTS_OVERRIDE = """# Written by the test suite: moto's domain is ready at once.
module "pipeline" {
  opensearch_timeouts = { create = "10s", update = "10s", delete = "10s" }
}
"""


@dataclass
class Applied:
    tf: tf_support.Terraform
    endpoint: str
    outputs: dict[str, Any]

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint, **tf_support.MOTO_CREDENTIALS)


def stage_artefacts(work: Path) -> None:
    """dist/ beside the copy of terraform/, where the stack looks by default: the built artefacts, else placeholders
    (this test checks the wiring, not the code; the cycle deploys the real ones)."""
    dist = work / "dist"
    dist.mkdir()
    placeholders = {
        "transform.zip": tf_support.placeholder_lambda_zip,
        "ingester-bundle.tar.gz": tf_support.placeholder_bundle,
    }
    for name, placeholder in placeholders.items():
        built = REPO_ROOT / "dist" / name
        if built.is_file():
            shutil.copy(built, dist / name)
        else:
            placeholder(dist / name)


@pytest.fixture(scope="module")
def bluesky(moto_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Applied]:
    tf_support.require_terraform()
    tf_support.reset_moto(moto_server)
    work = tmp_path_factory.mktemp("tf-example-bluesky")
    stage_artefacts(work)
    tf = tf_support.moto_root(moto_server, work, example="bluesky")
    (tf.workdir / "moto_override.tf").write_text(TIMEOUTS_OVERRIDE, encoding="utf-8")
    (tf.workdir / "moto.auto.tfvars.json").write_text(json.dumps({"dashboards_allowed_cidrs": ["198.51.100.7/32"]}))
    tf.run(["apply", "-auto-approve", "-no-color", "-input=false"])
    outputs = json.loads(tf.run(["output", "-json", "pipeline"]).stdout)  # the stack's outputs, as one object
    applied = Applied(tf=tf, endpoint=moto_server, outputs=outputs)
    try:
        yield applied
    finally:
        # Reset, not destroy: destroying this stack shape is tested by the cycle (test_moto_cycle.py), and here it
        # would add about 80 s of CI time for nothing new. The next user of the server resets it anyway.
        tf_support.reset_moto(moto_server)


def test_the_ingester_reads_bluesky_and_the_stack_is_named_after_the_example(bluesky: Applied) -> None:
    stream = bluesky.outputs["delivery_stream_name"]
    assert stream == "bluesky-sentiment"
    instance_id = bluesky.outputs["ingester_instance_id"]
    raw = bluesky.client("ec2").describe_instance_attribute(InstanceId=instance_id, Attribute="userData")
    user_data = base64.b64decode(raw["UserData"]["Value"]).decode()
    env = dict(line.split("=", 1) for line in user_data.split("<<'ENV'\n", 1)[1].split("\nENV\n", 1)[0].splitlines())
    assert env["INGESTER_SOURCE"] == "bluesky"
    assert env["DELIVERY_STREAM_NAME"] == stream
    assert env["TRACKED_TERMS"] == "aws,amazon web services"
    assert bluesky.outputs["dashboards_url"].endswith("/_dashboards/")


def test_the_examples_tags_reach_the_providers_default_tags(bluesky: Applied) -> None:
    stream = bluesky.outputs["delivery_stream_name"]
    tags = bluesky.client("firehose").list_tags_for_delivery_stream(DeliveryStreamName=stream)["Tags"]
    assert {t["Key"]: t["Value"] for t in tags}.items() >= {"Example": "bluesky", "Stack": "bluesky-sentiment"}.items()
