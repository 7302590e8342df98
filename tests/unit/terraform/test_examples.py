"""Every example under terraform/examples is a root a consumer could copy: its own versions.tf and README, the
stack called by a local source, no provider block of its own (the stack configures it), and it validates after
`terraform init` from the provider mirror."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.support.terraform import TERRAFORM_DIR, Terraform

pytestmark = pytest.mark.terraform

EXAMPLES_DIR = TERRAFORM_DIR / "examples"
EXAMPLES = sorted(p.name for p in EXAMPLES_DIR.iterdir() if p.is_dir())


def test_the_three_examples_exist() -> None:
    assert EXAMPLES == ["bluesky", "complete", "existing-vpc"]
    for example in EXAMPLES:
        for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"):
            assert (EXAMPLES_DIR / example / name).is_file(), f"examples/{example}/{name}"
        assert f"[`{example}`]({example})" in (EXAMPLES_DIR / "README.md").read_text()


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_calls_the_stack_as_a_consumer_would(example: str) -> None:
    text = "\n".join(p.read_text() for p in sorted((EXAMPLES_DIR / example).glob("*.tf")))
    # the stack itself, by a relative source, and nothing else
    assert re.findall(r'^\s*source\s*=\s*"(\.[^"]*)"', text, flags=re.MULTILINE) == ["../.."]
    # the stack configures hashicorp/aws from its inputs; a provider block here would configure nothing
    assert not re.search(r'^provider "', text, flags=re.MULTILINE)
    assert 'version = ">= 5.100, < 7.0"' in (EXAMPLES_DIR / example / "versions.tf").read_text()


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_validates(terraform_copy: tuple[Path, Path], example: str) -> None:
    root, cli = terraform_copy
    tf = Terraform(root / "examples" / example, cli)
    tf.init(backend=False)
    result = json.loads(tf.run(["validate", "-json", "-no-color"]).stdout)
    assert result["valid"] is True, result["diagnostics"]
    assert result["warning_count"] == 0, result["diagnostics"]
