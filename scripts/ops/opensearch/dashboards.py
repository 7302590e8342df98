"""Dashboards saved objects shipped as NDJSON: load, compare with what the server holds, import on difference.

OpenSearch Dashboards: ``POST <dashboards>/api/saved_objects/_import?overwrite=true`` with ``osd-xsrf: true``.
Kibana (``--kibana``): the same path under the Kibana base URL with ``kbn-xsrf: true``. Upload is multipart
(field ``file``). The objects use the 7.10 saved-object format (migrationVersion <= 7.10.0) that both
OpenSearch Dashboards 1.x/2.x and Kibana 7.10.x import.

A refusal of the signed API is its own failure (:class:`DashboardsRefused`), one line with the manual import: on an
Amazon OpenSearch Service domain with Cognito sign-in, whether Dashboards' API takes a SigV4-signed request from the
master user has not been tried against a real domain here. It can answer 401/403, or redirect to the Cognito login
page (an HTML page where JSON was expected); either way the saved objects file imports by hand in the Dashboards UI.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from scripts.ops.opensearch.client import Client, OpenSearchError, Refused
from scripts.ops.opensearch.resources import DATA_DIR, is_subset

NDJSON_PATH = DATA_DIR / "dashboards.ndjson"
# Attributes stored as JSON strings inside the saved object: compared parsed, so key order does not matter.
# The one colour per sentiment every panel split by sentiment uses (its ``uiStateJSON`` ``vis.colors``), so NEGATIVE
# is red everywhere instead of whatever the palette hands out first. Other views of the same data (the demo's
# report) take theirs from here.
SENTIMENT_COLOURS = {
    "POSITIVE": "#54B399",  # green
    "NEGATIVE": "#BD271E",  # red
    "NEUTRAL": "#98A2B3",  # grey
    "MIXED": "#D6BF57",  # amber
    "no sentiment": "#D3DAE6",  # light grey: the missing bucket (scoring skipped)
}
JSON_STRING_ATTRIBUTES = ("visState", "uiStateJSON", "panelsJSON", "optionsJSON", "fields", "fieldFormatMap")


@dataclass(frozen=True)
class Flavour:
    name: str
    xsrf_header: str

    @property
    def headers(self) -> dict[str, str]:
        return {self.xsrf_header: "true"}


OPENSEARCH_DASHBOARDS = Flavour("OpenSearch Dashboards", "osd-xsrf")
KIBANA = Flavour("Kibana", "kbn-xsrf")


def load_objects(path: Path = NDJSON_PATH) -> list[dict[str, Any]]:
    objects = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{number}: not JSON: {exc}") from exc
        if not isinstance(obj, dict) or not {"id", "type", "attributes"} <= obj.keys():
            raise ValueError(f"{path}:{number}: a saved object needs id, type and attributes")
        objects.append(obj)
    return objects


def _parsed(attributes: dict[str, Any]) -> dict[str, Any]:
    out = dict(attributes)
    for key in JSON_STRING_ATTRIBUTES:
        if isinstance(out.get(key), str):
            with contextlib.suppress(json.JSONDecodeError):
                out[key] = json.loads(out[key])
    meta = out.get("kibanaSavedObjectMeta")
    if isinstance(meta, dict) and isinstance(meta.get("searchSourceJSON"), str):
        with contextlib.suppress(json.JSONDecodeError):
            out["kibanaSavedObjectMeta"] = {**meta, "searchSourceJSON": json.loads(meta["searchSourceJSON"])}
    return out


def _references(obj: dict[str, Any]) -> list[tuple[str, str, str]]:
    return sorted((str(r.get("name")), str(r.get("type")), str(r.get("id"))) for r in obj.get("references") or [])


def differs(shipped: dict[str, Any], stored: dict[str, Any] | None) -> bool:
    """True when the server's copy is missing or does not hold what we ship (extra server-side keys are fine)."""
    if stored is None or "error" in stored:
        return True
    if not is_subset(_parsed(shipped["attributes"]), _parsed(stored.get("attributes") or {})):
        return True
    return _references(shipped) != _references(stored)


class DashboardsRefused(OpenSearchError):
    """Dashboards' saved-objects API did not serve the signed request; the message says how to import by hand."""


def manual_import(flavour: Flavour) -> str:
    """What to do instead, on one line."""
    where = "Stack Management" if flavour is KIBANA else "Dashboards Management"
    return (
        f"import {os.path.relpath(NDJSON_PATH)} by hand: sign in to {flavour.name}, {where} > Saved "
        "objects > Import, choose the file, keep 'Automatically overwrite conflicts'; then rerun with --skip-dashboards"
    )


def _checked(resp: requests.Response, flavour: Flavour, what: str) -> requests.Response:
    """``resp`` when it is the API's JSON answer; :class:`DashboardsRefused` when a sign-in page answered instead."""
    content_type = resp.headers.get("Content-Type", "")
    if resp.history or "json" not in content_type:
        via = f"redirected to {resp.url.split('?')[0]}" if resp.history else f"a {content_type or 'non-JSON'} page"
        raise DashboardsRefused(
            f"{flavour.name} answered {what} with a sign-in page ({via}), not its API: the signed request did not get "
            f"past the domain's Dashboards sign-in; {manual_import(flavour)}"
        )
    return resp


def _get_stored(client: Client, flavour: Flavour, obj: dict[str, Any], headers: dict[str, str]) -> Any | None:
    resp = client.request("GET", f"api/saved_objects/{obj['type']}/{obj['id']}", headers=headers, ok=(200, 404))
    _checked(resp, flavour, f"GET api/saved_objects/{obj['type']}/{obj['id']}")
    return None if resp.status_code == 404 else resp.json()


def sync(
    client: Client, flavour: Flavour, objects: list[dict[str, Any]], ndjson: bytes, *, tenant: str | None = None
) -> tuple[str, list[str]]:
    """Import the objects when any of them differs. Returns (status, ids that differed).

    ``tenant`` (OpenSearch Dashboards with multi-tenancy) is sent as the ``securitytenant`` header so the objects
    land in a known tenant (default ``global``, shared by every user) rather than the caller's private one.
    """
    headers = dict(flavour.headers)
    if tenant:
        headers["securitytenant"] = tenant
    changed = []
    try:
        for obj in objects:
            if differs(obj, _get_stored(client, flavour, obj, headers)):
                changed.append(f"{obj['type']}/{obj['id']}")
        if not changed:
            return "unchanged", []
        resp = client.request(
            "POST",
            "api/saved_objects/_import",
            params={"overwrite": "true"},
            headers=headers,
            files={"file": ("tweets-dashboards.ndjson", ndjson, "application/ndjson")},
        )
    except Refused as exc:
        raise DashboardsRefused(
            f"{flavour.name} refused the signed saved-objects request (HTTP {exc.status}); {manual_import(flavour)}"
        ) from exc
    result = _checked(resp, flavour, "POST api/saved_objects/_import").json()
    if not result.get("success"):
        errors = result.get("errors") or []
        detail = (
            "; ".join(f"{e.get('type')}/{e.get('id')}: {json.dumps(e.get('error'))}" for e in errors[:5])
            or json.dumps(result)[:300]
        )
        raise OpenSearchError(
            f"{flavour.name} refused the saved objects ({detail}). These objects use the 7.10 saved-object format: "
            "OpenSearch Dashboards 1.x/2.x or Kibana 7.10.x are needed"
        )
    return "imported", changed


def check_kibana_version(client: Client) -> str:
    """Kibana mode only: the objects need Kibana >= 7.10 (their migrationVersion is 7.10.0)."""
    status = client.get_json("api/status", headers=KIBANA.headers) or {}
    number = str((status.get("version") or {}).get("number") or "")
    try:
        major, minor = (int(x) for x in number.split(".")[:2])
    except ValueError:
        return f"Kibana {number or 'unknown version'}"
    if (major, minor) < (7, 10):
        raise OpenSearchError(f"version mismatch: found Kibana {number}, the saved objects need Kibana >= 7.10")
    return f"Kibana {number}"
