"""Every IAM policy document Terraform holds, and parliament's findings on them.

``policy_documents`` walks a ``terraform show -json`` document (a saved plan's ``planned_values`` or the state's
``values``) and returns every attribute whose value is a JSON policy (an object with a ``Statement``): identity
policies, trust policies, key, bucket, domain and log resource policies, and the ``aws_iam_policy_document`` data
sources they come from, wherever they sit in the module tree. It does not look for known attribute names, so a
policy added later is linted without touching this file.

``run_parliament`` runs parliament (its own virtualenv: ``make test`` installs it and sets ``PARLIAMENT_BIN``) once
over all the distinct documents, with its community auditors and every severity down to INFO. parliament 1.6.4 has
no separate resource-policy mode: it checks a statement's ``Principal`` whenever one is present.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.paths import REPO_ROOT

PARLIAMENT_ALLOW = REPO_ROOT / "tests" / "integration" / "terraform" / "parliament_allow.json"


@dataclass
class PolicyDocument:
    """One distinct policy (canonical JSON) and every ``address.attribute`` that holds it."""

    canonical: str
    holders: list[str] = field(default_factory=list)

    @property
    def policy(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.canonical)
        return parsed

    @property
    def is_resource_policy(self) -> bool:
        statements = self.policy["Statement"]
        statements = statements if isinstance(statements, list) else [statements]
        return any("Principal" in s or "NotPrincipal" in s for s in statements)


@dataclass(frozen=True)
class Finding:
    issue: str
    severity: str
    detail: str
    holders: tuple[str, ...]


def _resources(module: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from module.get("resources", [])
    for child in module.get("child_modules", []):
        yield from _resources(child)


def _as_policy(value: str) -> dict[str, Any] | None:
    if "Statement" not in value:
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) and "Statement" in parsed else None


def _policy_strings(value: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(value, str):
        policy = _as_policy(value)
        if policy is not None:
            yield path, policy
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _policy_strings(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _policy_strings(item, f"{path}[{i}]")


def policy_documents(root_module: dict[str, Any]) -> list[PolicyDocument]:
    """Distinct policy documents under ``root_module`` (``planned_values.root_module`` or ``values.root_module``)."""
    documents: dict[str, PolicyDocument] = {}
    for resource in _resources(root_module):
        for attribute, policy in _policy_strings(resource.get("values") or {}, ""):
            canonical = json.dumps(policy, sort_keys=True)
            documents.setdefault(canonical, PolicyDocument(canonical)).holders.append(
                f"{resource['address']}.{attribute}"
            )
    return list(documents.values())


def unknown_policy_attributes(plan: dict[str, Any]) -> set[str]:
    """``address.attribute`` of the top-level attributes a plan leaves unknown until apply, for resources whose
    known values include no policy at that attribute (the caller resolves them from the state after apply)."""
    unknown: set[str] = set()
    for change in plan.get("resource_changes", []):
        after_unknown = (change.get("change") or {}).get("after_unknown") or {}
        for attribute, flag in after_unknown.items():
            if flag is True:
                unknown.add(f"{change['address']}.{attribute}")
    return unknown


def resource_type(holder: str) -> str:
    """``module.a.module.b.data.aws_x.name.attr`` -> ``aws_x``."""
    parts = holder.split(".")
    i = 0
    while parts[i] == "module":
        i += 2
    if parts[i] == "data":
        i += 1
    return parts[i]


def parliament_binary() -> Path | None:
    configured = os.environ.get("PARLIAMENT_BIN")
    candidate = Path(configured) if configured else REPO_ROOT / ".venv-parliament" / "bin" / "parliament"
    return candidate if candidate.is_file() else None


def run_parliament(binary: Path, documents: list[PolicyDocument]) -> list[Finding]:
    """parliament --directory over one file per document; its JSON lines mapped back to the documents."""
    with tempfile.TemporaryDirectory(prefix="parliament-") as tmp:
        paths: dict[str, PolicyDocument] = {}
        for i, document in enumerate(documents):
            path = Path(tmp) / f"policy-{i:03d}.json"
            path.write_text(json.dumps(document.policy, indent=2), encoding="utf-8")
            paths[str(path)] = document
        proc = subprocess.run(
            [
                str(binary),
                "--directory",
                tmp,
                "--include_policy_extension",
                ".json",
                "--include-community-auditors",
                "--minimum_severity",
                "INFO",
                "--json",
            ],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    if proc.returncode not in (0, 1) or (proc.returncode == 1 and not proc.stdout.strip()):
        raise RuntimeError(f"parliament exited {proc.returncode}:\n{proc.stderr[-4000:]}")
    findings: list[Finding] = []
    for line in proc.stdout.splitlines():
        if not line.strip():
            continue
        raw = json.loads(line)
        location = raw.get("location") or {}
        document = paths.get(str(location.get("filepath", "")))
        holders = tuple(document.holders) if document else (f"<unmapped: {location}>",)
        findings.append(Finding(raw["issue"], raw.get("severity", ""), str(raw.get("detail", "")), holders))
    return findings


def load_allow_list(path: Path = PARLIAMENT_ALLOW) -> list[dict[str, str]]:
    """The reviewed suppressions: ``{"issue", "holder", "reason"}`` and an optional ``detail``; a finding is
    suppressed when its issue matches, one of its document's holders is ``holder`` and, when given, its detail
    contains ``detail``."""
    entries: list[dict[str, str]] = json.loads(path.read_text(encoding="utf-8"))["allow"]
    for entry in entries:
        if not entry.get("reason", "").strip() or not entry.get("issue") or not entry.get("holder"):
            raise ValueError(f"{path}: every suppression needs issue, holder and a reason: {entry}")
    return entries


def is_suppressed(finding: Finding, allow: list[dict[str, str]]) -> dict[str, str] | None:
    for entry in allow:
        if (
            entry["issue"] == finding.issue
            and entry["holder"] in finding.holders
            and entry.get("detail", "") in finding.detail
        ):
            return entry
    return None
