"""Plan-level checks of the ingester's volume tags, on the unchanged root against moto.

- The instance tags its root volume through ``root_block_device.tags``, not ``volume_tags``: the provider documents
  that ``volume_tags`` and the tags of an ``aws_ebs_volume`` attached with ``aws_volume_attachment`` (the state
  volume) fight, so a real account would never get a clean plan.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.support.terraform import (
    Terraform,
    moto_root,
    placeholder_bundle,
    placeholder_lambda_zip,
    unavailable_reason,
)

pytestmark = [pytest.mark.terraform, pytest.mark.moto_server, pytest.mark.slow]


@pytest.fixture(scope="module")
def root(moto_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Terraform]:
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    requests.post(f"{moto_server}/moto-api/reset", timeout=10).raise_for_status()
    yield moto_root(moto_server, tmp_path_factory.mktemp("tf-trust-tags"))


def plan(tf: Terraform, **tfvars: Any) -> dict[str, Any]:
    """``terraform show -json`` of a plan of the whole root with these variables."""
    work = tf.workdir.parent
    values = {
        "lambda_zip_path": str(placeholder_lambda_zip(work / "transform.zip")),
        "ingester_bundle_path": str(placeholder_bundle(work / "ingester-bundle.tar.gz")),
        "dashboards_allowed_cidrs": ["203.0.113.7/32"],
        **tfvars,
    }
    (tf.workdir / "case.auto.tfvars.json").write_text(json.dumps(values), encoding="utf-8")
    tf.run(["plan", "-no-color", "-input=false", "-lock=false", "-out=case.tfplan"], timeout=300)
    shown: dict[str, Any] = json.loads(tf.run(["show", "-json", "case.tfplan"]).stdout)
    return shown


def resources(shown: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Planned values by address, every module included."""
    found: dict[str, dict[str, Any]] = {}

    def walk(module: dict[str, Any]) -> None:
        for resource in module.get("resources", []):
            found[resource["address"]] = resource.get("values", {})
        for child in module.get("child_modules", []):
            walk(child)

    walk(shown["planned_values"]["root_module"])
    return found


@pytest.fixture(scope="module")
def default_plan(root: Terraform) -> dict[str, Any]:
    return plan(root)


def test_volume_tags_are_not_used_so_the_state_volume_keeps_its_own(default_plan: dict[str, Any]) -> None:
    planned = resources(default_plan)
    instance = planned["module.ingester.aws_instance.this"]
    assert not instance.get("volume_tags"), "volume_tags would retag the attached state volume on every apply"
    (root_volume,) = instance["root_block_device"]
    assert root_volume["tags"]["Name"] == instance["tags"]["Name"]
    state = planned["module.ingester.aws_ebs_volume.state[0]"]
    assert state["tags"]["Name"] == f"{instance['tags']['Name']}-state"
    assert "module.ingester.aws_volume_attachment.state[0]" in planned
