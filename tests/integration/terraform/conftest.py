"""Fixtures for the static Terraform checks: a private copy of terraform/ initialised from the mirror."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.terraform import copy_root, require_terraform, write_cli_config


@pytest.fixture(scope="session")
def terraform_copy(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(copy of terraform/, CLI config): init writes .terraform/ and module lock files, never into the repo."""
    require_terraform()
    work = tmp_path_factory.mktemp("tf-static")
    return copy_root(work), write_cli_config(work / "cli")
