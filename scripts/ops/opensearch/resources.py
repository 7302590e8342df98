"""The OpenSearch objects shipped as code (data files beside this module) and how to compare them with a cluster.

- ``data/index_template.json``: composable template for ``tweets-*``; one mapping per leaf of
  ``lambda_src/transform/schemas/document.schema.json`` (its ``x-index-type``), ``dynamic: strict``.
- ``data/ingest_pipeline.json``: the ingest pipeline ``tweets-id``, the template's ``index.default_pipeline``: it sets
  each document's ``_id`` to its ``tweet_id``, so a tweet delivered twice (at-least-once delivery, Firehose sending
  no id) overwrites itself instead of becoming a second document. See docs/opensearch.md, "One document per tweet".
- ``data/ism_policy.json``: ISM policy deleting indices older than the retention (``RETENTION_DAYS`` placeholder).
- ``data/roles.json``: the security roles ``tweets_writer`` (Firehose, docs/design.md §2.4), ``tweets_reader`` and
  ``tweets_deleter`` (the ingester's deleter: delete-by-query on tweets-* only).
- ``data/dashboards.ndjson``: the Dashboards saved objects.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent / "data"
TEMPLATE_NAME = "tweets"
ISM_POLICY_ID = "tweets-retention"
PIPELINE_ID = "tweets-id"
"""The ingest pipeline the index template names as ``index.default_pipeline``."""
WRITER_ROLE = "tweets_writer"
READER_ROLE = "tweets_reader"
DELETER_ROLE = "tweets_deleter"
"""Delete-by-query on tweets-* only: the ingester's deleter (its instance role is the backend role)."""
# Built-in role that lets a user sign in to and use OpenSearch Dashboards (cluster read and search, index
# monitoring, writes to the Dashboards indices); combined with READER_ROLE for the data.
DASHBOARDS_ROLE = "kibana_user"
INDEX_PATTERN = "tweets-*"


@cache
def _load(name: str) -> Any:
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


def index_template(shards: int | None = None, replicas: int | None = None) -> dict[str, Any]:
    """The composable index template body for ``PUT _index_template/tweets``."""
    body: dict[str, Any] = copy.deepcopy(_load("index_template.json"))
    settings = body["template"]["settings"]["index"]
    if shards is not None:
        if shards < 1:
            raise ValueError(f"shards must be >= 1, got {shards}")
        settings["number_of_shards"] = shards
    if replicas is not None:
        if replicas < 0:
            raise ValueError(f"replicas must be >= 0, got {replicas}")
        settings["number_of_replicas"] = replicas
    return body


def ingest_pipeline() -> dict[str, Any]:
    """The body for ``PUT _ingest/pipeline/tweets-id``."""
    body: dict[str, Any] = copy.deepcopy(_load("ingest_pipeline.json"))
    return body


def ism_policy(retention_days: int) -> dict[str, Any]:
    """The body for ``PUT _plugins/_ism/policies/tweets-retention`` with the retention filled in."""
    if not 1 <= retention_days <= 36500:
        raise ValueError(f"retention_days must be between 1 and 36500, got {retention_days}")
    text = json.dumps(_load("ism_policy.json")).replace("RETENTION_DAYSd", f"{retention_days}d")
    body: dict[str, Any] = json.loads(text)
    return body


def role(name: str) -> dict[str, Any]:
    roles: dict[str, Any] = _load("roles.json")
    return copy.deepcopy(roles[name])


def retention_of(policy: dict[str, Any]) -> str | None:
    """The ``min_index_age`` of the transition to the delete state, e.g. ``'30d'``."""
    for state in policy.get("states", []):
        for transition in state.get("transitions", []):
            if transition.get("state_name") == "delete":
                age = transition.get("conditions", {}).get("min_index_age")
                return str(age) if age is not None else None
    return None


# --- comparison -------------------------------------------------------------------------------------------------


def _flatten(prefix: str, value: Any, out: dict[str, str]) -> None:
    if isinstance(value, dict):
        for key, sub in value.items():
            _flatten(f"{prefix}.{key}" if prefix else key, sub, out)
    else:
        out[prefix] = (
            json.dumps(value)
            if isinstance(value, list)
            else str(value).lower()
            if isinstance(value, bool)
            else str(value)
        )


def flat_settings(settings: dict[str, Any]) -> dict[str, str]:
    """OpenSearch returns settings nested or dotted, values as strings; normalise to ``{"index.x": "1"}``."""
    out: dict[str, str] = {}
    _flatten("", settings, out)
    return {key if key.startswith("index.") else f"index.{key}": value for key, value in out.items()}


def _scalars_as_str(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _scalars_as_str(sub) for key, sub in value.items()}
    if isinstance(value, list):
        return [_scalars_as_str(sub) for sub in value]
    if isinstance(value, bool):
        return str(value).lower()
    return str(value) if value is not None else None


def normalise_template(body: dict[str, Any]) -> dict[str, Any]:
    """A canonical form of an index template (as sent or as returned by ``GET _index_template``)."""
    template = body.get("template") or {}
    return {
        "index_patterns": sorted(body.get("index_patterns") or []),
        "priority": int(body.get("priority") or 0),
        "composed_of": list(body.get("composed_of") or []),
        "settings": flat_settings(template.get("settings") or {}),
        "mappings": _scalars_as_str(template.get("mappings") or {}),
        "aliases": template.get("aliases") or {},
        "_meta": body.get("_meta") or {},
    }


def is_subset(wanted: Any, actual: Any) -> bool:
    """True when everything in ``wanted`` is present and equal in ``actual``.

    Servers add defaults (ISM adds ``retry`` to actions, timestamps, schema versions); those extra keys do not
    count as a difference. Lists must have the same length and match element by element.
    """
    if isinstance(wanted, dict):
        return isinstance(actual, dict) and all(k in actual and is_subset(v, actual[k]) for k, v in wanted.items())
    if isinstance(wanted, list):
        return isinstance(actual, list) and len(wanted) == len(actual) and all(map(is_subset, wanted, actual))
    return bool(wanted == actual)


def normalise_role(body: dict[str, Any]) -> dict[str, Any]:
    """Permissions are sets: compare sorted, ignore server-side flags (reserved, hidden, static, fls, ...)."""
    return {
        "description": body.get("description", ""),
        "cluster_permissions": sorted(body.get("cluster_permissions") or []),
        "index_permissions": sorted(
            (
                tuple(sorted(perm.get("index_patterns") or [])),
                tuple(sorted(perm.get("allowed_actions") or [])),
                tuple(sorted(perm.get("fls") or [])),
                tuple(sorted(perm.get("masked_fields") or [])),
                perm.get("dls") or "",
            )
            for perm in body.get("index_permissions") or []
        ),
        "tenant_permissions": sorted(json.dumps(p, sort_keys=True) for p in body.get("tenant_permissions") or []),
    }
