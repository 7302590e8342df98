"""Run the terraform CLI offline from the local provider mirror, for tests and CI.

The registry is unreachable here, so every terraform run in the test suite uses a CLI configuration
file (``TF_CLI_CONFIG_FILE``) whose only provider source is a ``filesystem_mirror`` at
``$TF_PLUGIN_MIRROR`` (default ``/opt/tf-plugins``). The repository itself configures no mirror: users
with registry access run plain ``terraform init``.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import tarfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support import commands
from tests.support.paths import REPO_ROOT

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


def require_terraform() -> None:
    """Skip the calling test or fixture where terraform or the provider mirror is missing (see unavailable_reason)."""
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)


def reset_moto(endpoint: str) -> None:
    """Empty the moto server's emulated account (every region and service)."""
    requests.post(f"{endpoint}/moto-api/reset", timeout=10).raise_for_status()


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


MOTO_REGION = "us-east-1"
MOTO_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": MOTO_REGION}
# The environment terraform runs with against the moto server: dummy credentials, no instance metadata, and no
# profile of the machine running the tests.
MOTO_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": MOTO_REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_PROFILE": "",
}
# Every service the root module calls; the override points each at the moto server.
ROOT_ENDPOINT_SERVICES = (
    "cloudwatch",  # the monitoring module's alarms and dashboard
    "cognitoidentity",
    "cognitoidp",
    "ec2",
    "es",
    "firehose",
    "iam",
    "kms",
    "lambda",
    "logs",
    "opensearch",
    "s3",
    "secretsmanager",
    "sns",  # the alarm topic
    "ssm",
    "sts",
)


def copy_root(work: Path) -> Path:
    """A private copy of terraform/ under work, without local state, variable files, backend or .terraform."""
    root = work / "terraform"
    shutil.copytree(
        TERRAFORM_DIR, root, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", "*.tfvars", "backend.tf")
    )
    return root


def moto_root(endpoint: str, work: Path, example: str | None = None) -> Terraform:
    """The unchanged root module, copied under work with its provider pointed at the moto server, initialised
    from the mirror (the committed lock file must already be right).

    With ``example``, the returned Terraform runs in that example of the copy (``terraform/examples/<example>``,
    which calls the root as a module, so the same provider override applies), initialised without a committed
    lock file (examples have none)."""
    root = copy_root(work)
    (root / "moto_override.tf").write_text(moto_provider_override(endpoint, ROOT_ENDPOINT_SERVICES), encoding="utf-8")
    workdir = root if example is None else root / "examples" / example
    tf = Terraform(workdir, write_cli_config(work / "cli"), MOTO_ENV)
    tf.run(["init", "-no-color", "-input=false", *(["-lockfile=readonly"] if example is None else [])])
    return tf


def placeholder_lambda_zip(path: Path) -> Path:
    """A minimal package with the handler module path, used until `make build` has produced the zip."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("transform/__init__.py", "")
        archive.writestr(
            "transform/handler.py",
            "def lambda_handler(event, context):\n"
            '    return {"records": [{"recordId": r["recordId"], "result": "Ok", "data": r["data"]} '
            'for r in event["records"]]}\n',
        )
    return path


def placeholder_bundle(path: Path) -> Path:
    """A minimal bundle with an install.sh, used until `make build` has produced the real one."""
    script = b"#!/bin/bash\necho placeholder bundle\n"
    with tarfile.open(path, "w:gz") as archive:
        info = tarfile.TarInfo("install.sh")
        info.size = len(script)
        info.mode = 0o755
        archive.addfile(info, io.BytesIO(script))
    return path


def write_case_tfvars(tf: Terraform, **tfvars: Any) -> dict[str, Any]:
    """Write ``case.auto.tfvars.json`` for a plan of the root: placeholder artefacts (built beside the workdir's
    copy), a documentation CIDR for Dashboards, then ``tfvars`` over them. Returns what it wrote."""
    work = tf.workdir.parent
    values = {
        "lambda_zip_path": str(placeholder_lambda_zip(work / "transform.zip")),
        "ingester_bundle_path": str(placeholder_bundle(work / "ingester-bundle.tar.gz")),
        "dashboards_allowed_cidrs": ["203.0.113.7/32"],
        **tfvars,
    }
    (tf.workdir / "case.auto.tfvars.json").write_text(json.dumps(values), encoding="utf-8")
    return values


def moto_provider_override(endpoint: str, services: Sequence[str]) -> str:
    """An ``aws`` provider block (for an ``*_override.tf`` file) pointing every listed service at the moto server."""
    endpoints = "\n".join(f'    {service:<14} = "{endpoint}"' for service in services)
    return f"""# Written by the test suite (tests/support/terraform.py): provider pointed at the moto server.
provider "aws" {{
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  s3_use_path_style           = true

  endpoints {{
{endpoints}
  }}
}}
"""


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

    def run(
        self, args: Sequence[str], *, ok: Sequence[int] = (0,), timeout: float = 900
    ) -> subprocess.CompletedProcess[str]:
        binary = terraform_binary()
        if binary is None:
            raise TerraformError("terraform CLI not found on PATH")
        proc = commands.run([binary, f"-chdir={self.workdir}", *args], env=self.env(), timeout=timeout)
        if proc.returncode not in ok:
            raise TerraformError(
                f"terraform {' '.join(args)} exited {proc.returncode} in {self.workdir}\n"
                f"--- stdout ---\n{proc.stdout[-20000:]}\n--- stderr ---\n{proc.stderr[-20000:]}"
            )
        return proc

    def init(self, *, backend: bool = True) -> subprocess.CompletedProcess[str]:
        args = ["init", "-no-color", "-input=false"]
        if not backend:
            args.append("-backend=false")
        return self.run(args)
