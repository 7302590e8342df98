"""Read the Terraform root module's outputs (``terraform -chdir=DIR output -json``) for the operator tools.

Every tool (``scripts.ops.opensearch``, ``scripts.ops.redrive``, ``scripts.ops.smoke``) takes explicit flags first
and only falls back to these outputs for values the user did not pass, so the tools also work without Terraform state
(another workspace, CI, tests). The outputs the root module provides:

opensearch_endpoint, dashboards_url, delivery_stream_name, backup_bucket_name, firehose_role_arn,
opensearch_admin_role_arn, dashboards_user_role_arn, firehose_log_group_name, aws_region, index_name_prefix,
retention_days, monitoring_sns_topic_arn, sentiment_alert_role_arn, sentiment_alert.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from scripts.ops.cli_support import parse_tool_args

DEFAULT_TF_DIR = Path(__file__).resolve().parents[2] / "terraform"


class TerraformOutputsError(RuntimeError):
    """The outputs could not be read; the message says why and which flag to pass instead."""


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_BOX = "╷╵│"


def terraform_diagnostics(text: str) -> str:
    """Terraform's error text as a user should read it, on one line: colour codes and the diagnostic box drawn
    around it removed, from the first ``Error:`` on (warnings before it, such as a missing CLI config file,
    dropped), its lines joined with spaces so a tool can print it as its one-line error."""
    lines = [line.lstrip(_BOX).strip() for line in _ANSI.sub("", text).splitlines()]
    start = next((i for i, line in enumerate(lines) if line.startswith("Error:")), 0)
    return " ".join(line for line in lines[start:] if line)


def parse_outputs(raw: str) -> dict[str, Any]:
    """``terraform output -json`` prints ``{name: {"value": v, "type": t, "sensitive": b}}``; return ``{name: v}``."""
    try:
        data = json.loads(raw or "{}")
    except json.JSONDecodeError as exc:
        raise TerraformOutputsError(f"terraform output -json did not print JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise TerraformOutputsError("terraform output -json did not print a JSON object")
    return {
        name: entry["value"] if isinstance(entry, dict) and "value" in entry else entry for name, entry in data.items()
    }


@cache
def read_outputs(tf_dir: str | Path = DEFAULT_TF_DIR, terraform: str = "terraform") -> dict[str, Any]:
    """Run ``terraform -chdir=tf_dir output -json`` once per process and return ``{name: value}``."""
    exe = shutil.which(terraform)
    if exe is None:
        raise TerraformOutputsError(f"'{terraform}' is not on PATH, so Terraform outputs cannot be read")
    proc = subprocess.run(
        [exe, f"-chdir={tf_dir}", "output", "-no-color", "-json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if proc.returncode != 0:
        cause = terraform_diagnostics(proc.stderr or proc.stdout) or f"exit status {proc.returncode}, no message"
        raise TerraformOutputsError(f"terraform -chdir={tf_dir} output -json failed: {cause}")
    return parse_outputs(proc.stdout)


class Resolver:
    """Resolve a setting: explicit value (flag) > environment > Terraform output > default.

    Terraform is only run when a value is actually missing, and at most once.
    """

    def __init__(
        self,
        tf_dir: str | Path | None,
        environ: Mapping[str, str],
        reader: Callable[[str | Path], dict[str, Any]] | None = None,
    ) -> None:
        self._tf_dir = tf_dir
        self._environ = environ
        self._reader = reader
        self._outputs: dict[str, Any] | None = None
        self._error: str | None = None

    @property
    def environ(self) -> Mapping[str, str]:
        """The environment this resolver reads."""
        return self._environ

    def _terraform(self) -> dict[str, Any]:
        if self._outputs is None:
            if self._tf_dir is None:
                self._outputs, self._error = {}, "Terraform outputs not read (--no-terraform)"
            else:
                try:
                    self._outputs = (self._reader or read_outputs)(self._tf_dir)
                except TerraformOutputsError as exc:
                    self._outputs, self._error = {}, str(exc)
        return self._outputs

    def get(self, explicit: Any, *, output: str | None = None, env: str | None = None, default: Any = None) -> Any:
        if explicit is not None and explicit != "":
            return explicit
        if env and self._environ.get(env):
            return self._environ[env]
        if output is not None:
            value = self._terraform().get(output)
            if value is not None and value != "":
                return value
        return default

    def require(self, explicit: Any, *, flag: str, output: str | None = None, env: str | None = None) -> Any:
        value = self.get(explicit, output=output, env=env)
        if value is None:
            sources = [flag]
            if env:
                sources.append(f"env {env}")
            if output:
                sources.append(f"Terraform output '{output}'")
            why = f" ({self._error})" if output and self._error else ""
            raise TerraformOutputsError(f"missing setting: pass {' or '.join(sources)}{why}")
        return value


def add_terraform_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``--tf-dir`` / ``--no-terraform`` pair every operator tool takes (read back by :func:`resolver_for`)."""
    parser.add_argument(
        "--tf-dir",
        default=os.environ.get("TF_DIR", str(DEFAULT_TF_DIR)),
        help="Terraform root module whose outputs fill in missing flags",
    )
    parser.add_argument("--no-terraform", action="store_true", help="never read Terraform outputs (pass every setting)")


def resolver_for(args: argparse.Namespace, environ: Mapping[str, str]) -> Resolver:
    """The :class:`Resolver` for a tool's parsed arguments (see :func:`add_terraform_arguments`)."""
    return Resolver(None if args.no_terraform else args.tf_dir, environ)


def start_tool(
    parser: argparse.ArgumentParser, argv: Sequence[str] | None, environ: Mapping[str, str] | None
) -> tuple[argparse.Namespace, Resolver]:
    """What an operator tool's ``main`` starts from: its parsed command line (logging configured, see
    :func:`scripts.ops.cli_support.parse_tool_args`) and the :class:`Resolver` of its settings over the flags, the
    environment (``environ``, default ``os.environ``; :attr:`Resolver.environ`) and the Terraform outputs."""
    args = parse_tool_args(parser, argv)
    return args, resolver_for(args, dict(os.environ if environ is None else environ))
