"""The one fake of the OpenSearch REST APIs and the Dashboards saved-objects API, served on 127.0.0.1.

It stores what is PUT, answers GETs the way OpenSearch does (settings as strings, server-side defaults added,
wrapped responses, seq_no/primary_term on ISM policies) and records every request (method, path, query,
headers, body) so tests can assert on exactly what was sent. ``_bulk`` indexes into :attr:`FakeState.indices`
with the applied template's strict dynamic mapping enforced, refuses the ids in ``fail_ids`` as a mapping
error, and answers 503 to the first ``unavailable`` calls. Like OpenSearch it runs the matching template's
``index.default_pipeline`` (stored by ``PUT _ingest/pipeline/<id>``) on each document before indexing, and
gives a document that has no ``_id`` afterwards a random one. Of the ingest processors it implements ``set``
(a source field or ``_id``; the value a Mustache template, ``{{x}}`` HTML-escaped, ``{{{x}}}`` raw, a missing
field rendering empty) and ``fail``, and of Painless ``if`` conditions only ``ctx.<field> == null`` / ``== ''``
joined by ``||``; it refuses any other processor or condition at ``PUT`` time, so a test cannot pass on
something it does not model. The Notifications plugin's channel configs (``_plugins/_notifications/configs``, SNS
topic ARNs validated) and the Alerting plugin's monitors (create, get, ``_search`` by name, update with
``if_seq_no``/``if_primary_term``) are stored the way those plugins store them: a monitor comes back with ids on its
triggers and actions and its queries in their parsed form (:func:`alerting_stored`), so a client that compares
what it sent with what it reads must send that form. Used by the OpenSearch setup and smoke tests
(``fake_os`` fixture) and by the demo's OpenSearch sink and end-to-end tests (:func:`serve`).
"""

from __future__ import annotations

import base64
import copy
import json
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from fnmatch import fnmatchcase
from html import escape
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.net import QuietHandler

_MUSTACHE = re.compile(r"\{\{\{\s*([\w.]+)\s*\}\}\}|\{\{\s*([\w.]+)\s*\}\}")
_CONDITION = re.compile(r"ctx\.([\w.]+) == (null|'')")


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


@dataclass
class FakeState:
    version: dict[str, Any] = field(default_factory=lambda: {"distribution": "opensearch", "number": "2.13.0"})
    basic_auth: tuple[str, str] | None = None  # require these credentials when set
    force_status: int | None = None  # answer every request with this status when set
    # How Dashboards (the _dashboards paths) refuses a signed request, as a domain with Cognito sign-in might:
    # "forbidden" (403 JSON) or "sign_in" (302 to a login page that answers HTML). None: it serves the API.
    dashboards_refusal: str | None = None
    templates: dict[str, Any] = field(default_factory=dict)
    pipelines: dict[str, Any] = field(default_factory=dict)  # ingest pipeline id -> body, from PUT _ingest/pipeline
    ism: dict[str, dict[str, Any]] = field(default_factory=dict)
    roles: dict[str, Any] = field(default_factory=dict)
    mappings: dict[str, Any] = field(default_factory=dict)
    saved_objects: dict[tuple[str, str], Any] = field(default_factory=dict)
    kibana_version: str = "7.10.2"
    data_nodes: int = 2  # number_of_data_nodes in GET _cluster/health
    unknown_paths: tuple[str, ...] = ()  # path fragments answered like a missing plugin ("no handler found")
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)  # tweet_id -> indexed document
    indices: dict[str, dict[str, Any]] = field(default_factory=dict)  # index -> _id -> document, from _bulk
    fail_ids: set[str] = field(default_factory=set)  # _bulk refuses these _ids with a mapper_parsing_exception
    unavailable: int = 0  # answer this many _bulk calls with 503 first
    refuse_deletes: int = 0  # answer this many _delete_by_query calls with refuse_status first
    refuse_status: int = 503
    on_search: Callable[[FakeState], None] | None = None  # runs before each _search (e.g. to "index" records)
    seq_no: int = 0
    notification_configs: dict[str, dict[str, Any]] = field(default_factory=dict)  # config_id -> stored entry
    monitors: dict[str, dict[str, Any]] = field(default_factory=dict)  # monitor id -> GET response body
    requests: list[Recorded] = field(default_factory=list)

    def writes(self) -> list[Recorded]:
        return [r for r in self.requests if r.method not in ("GET", "HEAD")]

    def default_pipeline(self, index: str) -> str | None:
        """The ``index.default_pipeline`` of the highest-priority template whose patterns match ``index``."""
        matching = [t for t in self.templates.values() if any(fnmatchcase(index, p) for p in t["index_patterns"])]
        if not matching:
            return None
        best = max(matching, key=lambda t: int(t.get("priority") or 0))
        settings = best["template"].get("settings") or {}
        found = settings.get("index", {}).get("default_pipeline", settings.get("index.default_pipeline"))
        return str(found) if found is not None else None

    def delete_by_query(self, pattern: str, query: dict[str, Any]) -> tuple[int, Any]:
        """``POST <pattern>/_delete_by_query`` with a ``bool.should`` of ``terms`` (the deleter's query): removes the
        matching documents from every index the pattern names (and from :attr:`documents`)."""
        if self.refuse_deletes > 0:
            self.refuse_deletes -= 1
            kind = "security_exception" if self.refuse_status == 403 else "es_rejected_execution_exception"
            return self.refuse_status, {"error": {"type": kind, "reason": "refused by the fake"}}
        wanted: dict[str, set[str]] = {}
        for clause in query["bool"]["should"]:
            field_name, values = next(iter(clause["terms"].items()))
            wanted.setdefault(field_name, set()).update(values)

        def match(doc: dict[str, Any]) -> bool:
            return any(_lookup(doc, name) in values for name, values in wanted.items())

        deleted = 0
        for name, docs in self.indices.items():
            if fnmatchcase(name, pattern):
                for key in [k for k, d in docs.items() if match(d)]:
                    del docs[key]
                    deleted += 1
        for key in [k for k, d in self.documents.items() if match(d)]:
            del self.documents[key]
            deleted += 1
        return 200, {"took": 1, "deleted": deleted, "failures": []}

    def bulk(self, body: bytes) -> tuple[int, Any]:
        """``POST _bulk`` of index actions: the default pipeline, then the first template's mapping when applied."""
        if self.unavailable > 0:
            self.unavailable -= 1
            return 503, {"error": "unavailable"}
        lines = [line for line in body.decode().split("\n") if line]
        mapping = next(iter(self.templates.values()))["template"]["mappings"] if self.templates else None
        items = []
        for action_line, doc_line in zip(lines[::2], lines[1::2], strict=True):
            meta = dict(json.loads(action_line)["index"])
            doc = json.loads(doc_line)
            problem = None
            pipeline_id = self.default_pipeline(meta["_index"])
            if pipeline_id is not None:
                if pipeline_id not in self.pipelines:
                    problem = (400, "illegal_argument_exception", f"pipeline with id [{pipeline_id}] does not exist")
                else:
                    failure = run_pipeline(self.pipelines[pipeline_id], meta, doc)
                    problem = (500, "fail_processor_exception", failure) if failure else None
            meta.setdefault("_id", uuid.uuid4().hex[:20])  # OpenSearch generates an id when none was given or set
            if problem is None and meta["_id"] in self.fail_ids:
                problem = (400, "mapper_parsing_exception", "failed to parse field [created_at]")
            elif problem is None and mapping is not None:
                reason = _strict_problem(doc, mapping["properties"])
                if reason:
                    problem = (400, "strict_dynamic_mapping_exception", reason)
            if problem:
                items.append({"index": {"_index": meta["_index"], "_id": meta["_id"], "status": problem[0],
                                        "error": {"type": problem[1], "reason": problem[2]}}})  # fmt: skip
                continue
            index = self.indices.setdefault(meta["_index"], {})
            status = 200 if meta["_id"] in index else 201  # an existing id is overwritten ("updated")
            index[meta["_id"]] = doc
            items.append({"index": {"_index": meta["_index"], "_id": meta["_id"], "status": status}})
        return 200, {"took": 1, "errors": any(i["index"]["status"] >= 300 for i in items), "items": items}


def _lookup(doc: dict[str, Any], path: str) -> Any:
    value: Any = doc
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _render(template: str, meta: dict[str, Any], doc: dict[str, Any]) -> str:
    """Mustache as the ingest ``set`` processor renders it: ``{{x}}`` HTML-escaped, ``{{{x}}}`` raw, missing = ''."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        value = meta.get(name) if name.startswith("_") else _lookup(doc, name)
        text = "" if value is None else str(value)
        return text if match.group(1) else escape(text)

    return _MUSTACHE.sub(one, template)


def _holds(condition: str, doc: dict[str, Any]) -> bool:
    """The Painless ``if`` conditions the fake models: ``ctx.<field> == null`` and ``== ''``, joined by ``||``."""
    for clause in condition.split("||"):
        match = _CONDITION.fullmatch(clause.strip())
        if match is None:
            raise ValueError(f"the fake does not model the condition {condition!r}")
        value = _lookup(doc, match.group(1))
        if (value is None) if match.group(2) == "null" else (value == ""):
            return True
    return False


def unsupported_processor(pipeline: dict[str, Any]) -> str | None:
    """Why the fake cannot model this pipeline (an unknown processor, target or condition), or None."""
    for processor in pipeline.get("processors") or []:
        ((kind, spec),) = processor.items()
        if kind not in ("set", "fail"):
            return f"processor [{kind}]"
        if kind == "set" and ((spec["field"].startswith("_") and spec["field"] != "_id") or "copy_from" in spec):
            return f"set of [{spec['field']}]"
        try:
            _holds(spec.get("if") or "ctx.x == null", {})
        except ValueError as exc:
            return str(exc)
    return None


def run_pipeline(pipeline: dict[str, Any], meta: dict[str, Any], doc: dict[str, Any]) -> str | None:
    """Run the pipeline on one document in place (``meta`` holds ``_index`` / ``_id``); the failure message or None."""
    for processor in pipeline["processors"]:
        ((kind, spec),) = processor.items()
        if "if" in spec and not _holds(spec["if"], doc):
            continue
        if kind == "fail":
            return _render(spec["message"], meta, doc)
        value = _render(spec["value"], meta, doc) if isinstance(spec["value"], str) else spec["value"]
        if spec["field"] == "_id":
            meta["_id"] = value
        else:
            doc[spec["field"]] = value
    return None


def _strict_problem(doc: dict[str, Any], props: dict[str, Any], prefix: str = "") -> str | None:
    """What ``dynamic: strict`` refuses in ``doc``: the first field the mapping does not have."""
    for key, value in doc.items():
        if key not in props:
            return f"mapping set to strict, dynamic introduction of [{prefix}{key}] is not allowed"
        sub = props[key].get("properties")
        if sub is not None and isinstance(value, dict):
            problem = _strict_problem(value, sub, f"{prefix}{key}.")
            if problem:
                return problem
    return None


_SNS_TOPIC = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$")
_RANGE_BOUNDS = {"gte": ("from", "include_lower", True), "gt": ("from", "include_lower", False),
                 "lte": ("to", "include_upper", True), "lt": ("to", "include_upper", False)}  # fmt: skip


def _query_stored(node: Any) -> Any:
    """A query or aggregation as OpenSearch parses and re-serialises it: range bounds as from/to/include_*, term
    values as {value, boost}, bool with a filter list and adjust_pure_negative, composite defaults filled in."""
    if isinstance(node, list):
        return [_query_stored(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {key: _query_stored(value) for key, value in node.items()}
    if isinstance(out.get("range"), dict):
        for name, spec in out["range"].items():
            parsed = {"from": None, "to": None, "include_lower": True, "include_upper": True}
            for key, value in spec.items():
                if key in _RANGE_BOUNDS:
                    bound, include, inclusive = _RANGE_BOUNDS[key]
                    parsed[bound], parsed[include] = value, inclusive
                else:
                    parsed[key] = value
            out["range"][name] = {**parsed, "boost": spec.get("boost", 1.0)}
    if isinstance(out.get("term"), dict):
        out["term"] = {
            name: ({**value, "boost": value.get("boost", 1.0)} if isinstance(value, dict) else {"value": value,
                                                                                                  "boost": 1.0})
            for name, value in out["term"].items()
        }  # fmt: skip
    if isinstance(out.get("exists"), dict):
        out["exists"].setdefault("boost", 1.0)
    if isinstance(out.get("bool"), dict):
        for clause in ("must", "filter", "should", "must_not"):
            if isinstance(out["bool"].get(clause), dict):
                out["bool"][clause] = [out["bool"][clause]]
        out["bool"].setdefault("adjust_pure_negative", True)
        out["bool"].setdefault("boost", 1.0)
    if isinstance(out.get("composite"), dict):
        out["composite"].setdefault("size", 10)
        for source in out["composite"].get("sources", []):
            for spec in source.values():
                spec.get("terms", {}).setdefault("missing_bucket", False)
                spec.get("terms", {}).setdefault("order", "asc")
    return out


def alerting_stored(body: dict[str, Any], previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """A monitor as the Alerting plugin stores and returns it: ids on triggers and actions, parsed queries,
    Mustache and gap-policy defaults, schema version, user and times."""
    monitor = copy.deepcopy(body)
    for monitor_input in monitor.get("inputs", []):
        search = monitor_input.get("search")
        if search is not None:
            search["query"] = _query_stored(search["query"])
    for trigger in monitor.get("triggers", []):
        spec = next(iter(trigger.values()))
        spec.setdefault("id", uuid.uuid4().hex[:20])
        spec.get("condition", {}).setdefault("gap_policy", "skip")
        for action in spec.get("actions", []):
            action.setdefault("id", uuid.uuid4().hex[:20])
            action.setdefault("throttle_enabled", False)
            for template in ("subject_template", "message_template"):
                if template in action:
                    action[template].setdefault("lang", "mustache")
    enabled_time = (previous or {}).get("enabled_time", 1764547200000)
    user = {"name": "fake", "backend_roles": [], "roles": [], "custom_attribute_names": [],
            "user_requested_tenant": None}  # fmt: skip
    return {**monitor, "schema_version": 5, "user": user, "enabled_time": enabled_time, "last_update_time": 1}


def _stringify_settings(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _stringify_settings(v) for k, v in value.items()}
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _security_resource(
    store: dict[str, Any], name: str, method: str, rec: Recorded, as_read: Callable[[dict[str, Any]], dict[str, Any]]
) -> tuple[int, Any]:
    """A security plugin REST resource (role, role mapping): PUT creates or replaces it (201 or 200); GET returns
    ``{name: as_read(stored copy)}``, the defaults the plugin fills in added, or its 404."""
    if method == "PUT":
        created = name not in store
        store[name] = rec.json()
        return (201 if created else 200), {"status": "CREATED" if created else "OK", "message": name}
    if name not in store:
        return 404, {"status": "NOT_FOUND", "message": f"Resource '{name}' not found."}
    return 200, {name: as_read(copy.deepcopy(store[name]))}


def _role_as_read(role: dict[str, Any]) -> dict[str, Any]:
    for perm in role.get("index_permissions", []):
        perm.setdefault("fls", [])
        perm.setdefault("masked_fields", [])
    return {**role, "reserved": False, "hidden": False, "static": False, "tenant_permissions": []}


def _mapping_as_read(mapping: dict[str, Any]) -> dict[str, Any]:
    defaults = {
        "hosts": [],
        "users": [],
        "backend_roles": [],
        "and_backend_roles": [],
        "reserved": False,
        "hidden": False,
    }
    return {**defaults, **mapping}


class _Handler(QuietHandler):
    server: _Server

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        state = self.server.state
        rec = Recorded(method, split.path, parse_qs(split.query), dict(self.headers.items()), body)
        with self.server.lock:
            state.requests.append(rec)
            if state.force_status is not None:
                self.reply_json(state.force_status, {"error": {"type": "forced", "reason": "forced by test"}})
                return
            if split.path == "/login":
                self.reply(200, b"<html><body>Sign in with your Cognito user</body></html>", "text/html")
                return
            if split.path.startswith("/_dashboards") and state.dashboards_refusal == "forbidden":
                self.reply_json(
                    403, {"message": "User: arn:aws:sts::123456789012:assumed-role/admin/s is not authorized"}
                )
                return
            if split.path.startswith("/_dashboards") and state.dashboards_refusal == "sign_in":
                self.send_response(302)
                self.send_header("Location", "/login?redirect_uri=%2F_dashboards")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if state.basic_auth is not None:
                user, password = state.basic_auth
                expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
                if rec.header("Authorization") != expected:
                    self.reply_json(
                        401, {"error": {"type": "security_exception", "reason": "Authentication finally failed"}}
                    )
                    return
            status, payload = self._route(method, split.path, rec)
            self.reply_json(status, payload)

    def _route(self, method: str, path: str, rec: Recorded) -> tuple[int, Any]:
        state = self.server.state
        parts = [p for p in path.split("/") if p]
        if parts[:1] == ["_dashboards"]:
            parts = parts[1:]
        not_found = (
            404,
            {"error": {"type": "resource_not_found_exception", "reason": f"{path} not found"}, "status": 404},
        )
        if any(fragment in path for fragment in state.unknown_paths):
            return 400, {"error": f"no handler found for uri [{path}] and method [{method}]"}
        if not parts and method == "GET":
            return 200, {"name": "fake", "cluster_name": "123:fake", "version": state.version, "tagline": "fake"}
        if parts == ["_bulk"] and method == "POST":
            return state.bulk(rec.body)
        if parts == ["_cluster", "health"] and method == "GET":
            return 200, {"cluster_name": "123:fake", "status": "green", "number_of_nodes": state.data_nodes,
                         "number_of_data_nodes": state.data_nodes}  # fmt: skip
        if parts[0] == "_ingest" and len(parts) == 3 and parts[1] == "pipeline":
            pid = parts[2]
            if method == "PUT":
                why = unsupported_processor(rec.json())
                if why:
                    return 400, {"error": {"type": "fake_unsupported", "reason": f"the fake does not model {why}"}}
                state.pipelines[pid] = rec.json()
                return 200, {"acknowledged": True}
            return (200, {pid: copy.deepcopy(state.pipelines[pid])}) if pid in state.pipelines else (404, {})
        if parts[0] == "_index_template" and len(parts) == 2:
            name = parts[1]
            if method == "PUT":
                state.templates[name] = rec.json()
                return 200, {"acknowledged": True}
            if name not in state.templates:
                return not_found
            stored = copy.deepcopy(state.templates[name])
            stored.setdefault("composed_of", [])
            stored["template"]["settings"] = _stringify_settings(stored["template"]["settings"])
            return 200, {"index_templates": [{"name": name, "index_template": stored}]}
        if parts[:2] == ["_plugins", "_ism"]:
            if parts[2] == "policies" and len(parts) == 4:
                pid = parts[3]
                if method == "PUT":
                    existing = state.ism.get(pid)
                    if existing is not None:
                        seq = rec.query.get("if_seq_no", [None])[0]
                        term = rec.query.get("if_primary_term", [None])[0]
                        if seq is None or term is None:
                            return 409, {"error": {"type": "version_conflict_engine_exception", "reason": "exists"}}
                        if int(seq) != existing["_seq_no"] or int(term) != existing["_primary_term"]:
                            return 409, {"error": {"type": "version_conflict_engine_exception", "reason": "seq_no"}}
                    policy = copy.deepcopy(rec.json()["policy"])
                    policy.update(policy_id=pid, last_updated_time=1, schema_version=17, error_notification=None)
                    for st in policy["states"]:
                        for action in st["actions"]:
                            action.setdefault("retry", {"count": 3, "backoff": "exponential", "delay": "1m"})
                    for tmpl in policy.get("ism_template", []):
                        tmpl["last_updated_time"] = 1
                    state.seq_no += 1
                    state.ism[pid] = {"_id": pid, "_version": state.seq_no, "_seq_no": state.seq_no,
                                      "_primary_term": 1, "policy": policy}  # fmt: skip
                    return (201 if existing is None else 200), {"_id": pid, "_seq_no": state.seq_no}
                return (200, state.ism[pid]) if pid in state.ism else not_found
            if parts[2] in ("add", "change_policy") and method == "POST":
                return 200, {"updated_indices": 2, "failures": False, "failed_indices": []}
        if parts[:4] == ["_plugins", "_security", "api", "roles"] and len(parts) == 5:
            return _security_resource(state.roles, parts[4], method, rec, _role_as_read)
        if parts[:4] == ["_plugins", "_security", "api", "rolesmapping"] and len(parts) == 5:
            return _security_resource(state.mappings, parts[4], method, rec, _mapping_as_read)
        if len(parts) == 2 and parts[1] == "_delete_by_query" and method == "POST" and "bool" in rec.json()["query"]:
            return state.delete_by_query(parts[0], rec.json()["query"])
        if len(parts) == 2 and parts[1] in ("_search", "_delete_by_query") and method == "POST":
            query = rec.json()["query"]
            if "terms" in query:
                match = lambda doc: doc.get("tweet_id") in query["terms"]["tweet_id"]  # noqa: E731
            else:
                field_name, value = next(iter(query["term"].items()))
                match = lambda doc: doc.get(field_name) == value  # noqa: E731
            if parts[1] == "_search":
                if state.on_search is not None:
                    state.on_search(state)
                if not state.documents:
                    return 404, {"error": {"type": "index_not_found_exception", "reason": "no such index"}}
                hits = [{"_index": "tweets-2026-11-26", "_source": d} for d in state.documents.values() if match(d)]
                return 200, {"hits": {"total": {"value": len(hits)}, "hits": hits[: query.get("size", 10)]}}
            doomed = [k for k, d in state.documents.items() if match(d)]
            for key in doomed:
                del state.documents[key]
            return 200, {"deleted": len(doomed), "failures": []}
        if parts[:2] == ["_plugins", "_notifications"] and parts[2:3] == ["configs"]:
            return self._notifications(method, parts[3] if len(parts) > 3 else None, rec)
        if parts[:2] == ["_plugins", "_alerting"] and parts[2:3] == ["monitors"]:
            return self._alerting(method, parts[3] if len(parts) > 3 else None, rec)
        if parts[:2] == ["api", "status"] and method == "GET":
            return 200, {"name": "kibana", "version": {"number": state.kibana_version}}
        if parts[:2] == ["api", "saved_objects"]:
            if parts[2:] == ["_import"] and method == "POST":
                ctype = rec.header("Content-Type") or ""
                msg = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {ctype}\r\n\r\n".encode() + rec.body)
                part = next(p for p in msg.iter_parts() if p.get_param("name", header="content-disposition") == "file")
                lines = [json.loads(x) for x in part.get_payload(decode=True).decode().splitlines() if x.strip()]
                for obj in lines:
                    stored = {**copy.deepcopy(obj), "version": "WzEsMV0=", "updated_at": "2026-11-26T00:00:00Z",
                              "namespaces": ["default"]}  # fmt: skip
                    state.saved_objects[(obj["type"], obj["id"])] = stored
                return 200, {"success": True, "successCount": len(lines)}
            if len(parts) == 4 and method == "GET":
                obj = state.saved_objects.get((parts[2], parts[3]))
                if obj is None:
                    return 404, {"statusCode": 404, "error": "Not Found",
                                 "message": f"Saved object [{parts[2]}/{parts[3]}] not found"}  # fmt: skip
                return 200, obj
        return 400, {"error": {"type": "fake_unsupported", "reason": f"{method} {path} not handled by the fake"}}

    def _notifications(self, method: str, config_id: str | None, rec: Recorded) -> tuple[int, Any]:
        """``_plugins/_notifications/configs``: POST creates (409 on a taken id), GET/PUT ``/<id>`` read/replace."""
        store = self.server.state.notification_configs
        missing = 404, {"status": 404, "error": {"type": "status_exception", "reason": f"Config {config_id} not found"}}
        if method in ("POST", "PUT"):
            body = rec.json()
            config = body.get("config") or {}
            if config.get("config_type") == "sns" and not _SNS_TOPIC.match(str(config.get("sns", {}).get("topic_arn"))):
                return 400, {"status": 400, "error": {"type": "illegal_argument_exception",
                                                      "reason": "Invalid AWS SNS topic ARN"}}  # fmt: skip
            if method == "POST" and config_id is None:
                config_id = body.get("config_id") or uuid.uuid4().hex[:20]
                if config_id in store:
                    error = {"type": "version_conflict_engine_exception", "reason": f"[{config_id}]: already exists"}
                    return 409, {"status": 409, "error": error}
                store[config_id] = {"config_id": config_id, "created_time_ms": 1, "last_updated_time_ms": 1,
                                    "config": config}  # fmt: skip
                return 200, {"config_id": config_id}
            if method == "PUT" and config_id is not None:
                if config_id not in store:
                    return missing
                store[config_id] = {**store[config_id], "last_updated_time_ms": 2, "config": config}
                return 200, {"config_id": config_id}
        if method == "GET" and config_id is not None:
            if config_id not in store:
                return missing
            return 200, {"start_index": 0, "total_hits": 1, "total_hit_relation": "eq",
                         "config_list": [copy.deepcopy(store[config_id])]}  # fmt: skip
        return 400, {"error": {"type": "fake_unsupported", "reason": f"{method} notifications {config_id}"}}

    def _alerting(self, method: str, monitor_id: str | None, rec: Recorded) -> tuple[int, Any]:
        """``_plugins/_alerting/monitors``: POST creates, ``_search`` finds by ``monitor.name`` (404 before the first
        monitor, when the config index does not exist yet), GET/PUT ``/<id>`` read/replace (seq_no checked)."""
        state = self.server.state
        missing = 404, {"error": {"type": "status_exception", "reason": "Monitor not found."}, "status": 404}
        if monitor_id == "_search" and method in ("GET", "POST"):
            if not state.monitors:
                return 404, {"error": {"type": "index_not_found_exception", "reason": "no such index"}, "status": 404}
            query = rec.json()["query"]
            ((kind, spec),) = query.items()
            if kind not in ("match", "match_phrase") or list(spec) != ["monitor.name"]:
                return 400, {"error": {"type": "fake_unsupported", "reason": f"monitor search {query}"}}
            hits = [{"_index": ".opendistro-alerting-config", "_id": mid, "_score": 1.0, "_source": m["monitor"]}
                    for mid, m in state.monitors.items() if m["monitor"]["name"] == spec["monitor.name"]]  # fmt: skip
            return 200, {"hits": {"total": {"value": len(hits), "relation": "eq"}, "hits": copy.deepcopy(hits)}}
        if method == "POST" and monitor_id is None:
            monitor_id = uuid.uuid4().hex[:20]
            state.seq_no += 1
            state.monitors[monitor_id] = {"_id": monitor_id, "_version": 1, "_seq_no": state.seq_no,
                                          "_primary_term": 1, "monitor": alerting_stored(rec.json())}  # fmt: skip
            return 201, copy.deepcopy(state.monitors[monitor_id])
        if monitor_id is None or monitor_id not in state.monitors:
            return missing
        current = state.monitors[monitor_id]
        if method == "GET":
            return 200, copy.deepcopy(current)
        if method == "PUT":
            seq = rec.query.get("if_seq_no", [None])[0]
            term = rec.query.get("if_primary_term", [None])[0]
            if seq is not None and (int(seq) != current["_seq_no"] or int(term or 0) != current["_primary_term"]):
                return 409, {"error": {"type": "version_conflict_engine_exception", "reason": "seq_no"}, "status": 409}
            state.seq_no += 1
            state.monitors[monitor_id] = {"_id": monitor_id, "_version": current["_version"] + 1,
                                          "_seq_no": state.seq_no, "_primary_term": 1,
                                          "monitor": alerting_stored(rec.json(), current["monitor"])}  # fmt: skip
            return 200, copy.deepcopy(state.monitors[monitor_id])
        return 400, {"error": {"type": "fake_unsupported", "reason": f"{method} monitor {monitor_id}"}}

    def do_GET(self) -> None:
        self._handle("GET")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: FakeState) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state
        self.lock = threading.Lock()


class FakeOpenSearch:
    def __init__(self) -> None:
        self.state = FakeState()
        self._server = _Server(self.state)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeOpenSearch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def serve(fake: FakeOpenSearch | None = None) -> Iterator[FakeOpenSearch]:
    """A started fake (a new one unless given), stopped on exit."""
    server = (fake or FakeOpenSearch()).start()
    try:
        yield server
    finally:
        server.stop()
