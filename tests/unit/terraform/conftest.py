"""Fixtures for the static Terraform checks: a private copy of terraform/ initialised from the mirror."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support.terraform import TERRAFORM_DIR, unavailable_reason, write_cli_config


@pytest.fixture(scope="session")
def terraform_copy(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(copy of terraform/, CLI config): init writes .terraform/ and module lock files, never into the repo."""
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    work = tmp_path_factory.mktemp("tf-static")
    root = work / "terraform"
    shutil.copytree(
        TERRAFORM_DIR, root, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", "terraform.tfvars", "backend.tf")
    )
    return root, write_cli_config(work / "cli")
