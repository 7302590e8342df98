"""Run the terraform CLI offline from the local provider mirror, for tests and CI.

The registry is unreachable here, so every terraform run in the test suite uses a CLI configuration
file (``TF_CLI_CONFIG_FILE``) whose only provider source is a ``filesystem_mirror`` at
``$TF_PLUGIN_MIRROR`` (default ``/opt/tf-plugins``). The repository itself configures no mirror: users
with registry access run plain ``terraform init``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
TERRAFORM_DIR = REPO_ROOT / "terraform"
MODULES_DIR = TERRAFORM_DIR / "modules"
DEFAULT_PLUGIN_MIRROR = "/opt/tf-plugins"


class TerraformError(RuntimeError):
    """A terraform command exited with an unexpected status."""


def plugin_mirror() -> Path:
    return Path(os.environ.get("TF_PLUGIN_MIRROR", DEFAULT_PLUGIN_MIRROR))


def terraform_binary() -> str | None:
    return shutil.which(os.environ.get("TF", "terraform"))


def unavailable_reason() -> str | None:
    """Why terraform tests cannot run here (None when they can)."""
    if terraform_binary() is None:
        return "terraform CLI not found on PATH"
    mirror = plugin_mirror()
    if not (mirror / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
        return f"no hashicorp/aws provider mirror under {mirror} (set TF_PLUGIN_MIRROR)"
    return None


def write_cli_config(directory: Path) -> Path:
    """Write a CLI config that installs providers only from the local mirror; return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "terraformrc"
    path.write_text(
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f'    path    = "{plugin_mirror()}"\n'
        '    include = ["registry.terraform.io/hashicorp/*"]\n'
        "  }\n"
        "}\n",
        encoding="utf-8",
    )
    return path


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class Terraform:
    """terraform -chdir=<workdir> with an offline CLI config and a private plugin cache."""

    workdir: Path
    cli_config: Path
    extra_env: Mapping[str, str] | None = None

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "TF_CLI_CONFIG_FILE": str(self.cli_config),
                "TF_IN_AUTOMATION": "1",
                "TF_INPUT": "0",
                "CHECKPOINT_DISABLE": "1",
            }
        )
        env.pop("TF_PLUGIN_CACHE_DIR", None)
        if self.extra_env:
            env.update(self.extra_env)
        return env

    def run(self, args: Sequence[str], *, ok: Sequence[int] = (0,), timeout: float = 900) -> Result:
        binary = terraform_binary()
        if binary is None:
            raise TerraformError("terraform CLI not found on PATH")
        proc = subprocess.run(
            [binary, f"-chdir={self.workdir}", *args],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if proc.returncode not in ok:
            raise TerraformError(
                f"terraform {' '.join(args)} exited {proc.returncode} in {self.workdir}\n"
                f"--- stdout ---\n{proc.stdout[-20000:]}\n--- stderr ---\n{proc.stderr[-20000:]}"
            )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def init(self, *, backend: bool = True) -> Result:
        args = ["init", "-no-color", "-input=false"]
        if not backend:
            args.append("-backend=false")
        return self.run(args)
