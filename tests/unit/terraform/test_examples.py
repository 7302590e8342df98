"""Every example under terraform/examples is a root a consumer could copy: its own versions.tf and README, the
stack called by a local source, no provider block of its own (the stack configures it). test_static.py validates
each one after `terraform init` from the provider mirror, with the modules."""

from __future__ import annotations

import re

import pytest

from tests.support.terraform import TERRAFORM_DIR

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
    # the modules' one declaration of the versions (Terraform >= 1.11, hashicorp/aws >= 5.100, < 7.0)
    assert (EXAMPLES_DIR / example / "versions.tf").resolve() == TERRAFORM_DIR / "modules" / "versions.tf"
