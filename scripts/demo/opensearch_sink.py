"""``--opensearch-url``: index the demo's documents into a real OpenSearch, the way Firehose does.

At start the ingest pipeline ``tweets-id`` and the index template (``scripts/ops/opensearch``'s objects as code,
the template built from document.schema.json and naming the pipeline as its ``index.default_pipeline``) are
applied, the template with no replicas (a local cluster usually has one node). Each processed batch then goes to
the ``_bulk`` API into the daily index ``tweets-YYYY-MM-DD`` (Firehose's OneDay rotation, UTC) without a
document id, as Firehose sends it (``NO_DOCUMENT_ID``): the pipeline sets ``_id = tweet_id`` on the cluster, so
a replay overwrites instead of duplicating, by the same mechanism as on AWS. Documents the cluster refuses, and whole
batches it cannot take after the retries, are returned with their error for the
``AmazonOpenSearchService-failed/`` folder, as Firehose backs them up to S3.

Failure policy: HTTP 429/502/503/504 and connection errors are retried ``retries`` times with the shared capped
exponential backoff and jitter (``ingester.backoff``); any other non-200 answer refuses the whole batch at once;
per-document errors of a 200 answer refuse those documents only.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ingester.backoff import Backoff
from scripts.ops.opensearch.client import Auth, Client, OpenSearchError, basic_auth, check_version
from scripts.ops.opensearch.resources import PIPELINE_ID, TEMPLATE_NAME, index_template, ingest_pipeline

log = logging.getLogger(__name__)

INDEX_PREFIX = "tweets-"
MAX_BACKOFF_S = 10.0
"""Longest wait between two _bulk attempts (the shared capped exponential backoff with jitter)."""


@dataclass(frozen=True)
class Rejected:
    doc: Mapping[str, Any]
    status: str
    reason: str
    index: str


def client_from_url(url: str, environ: Mapping[str, str] | None = None, *, verify: bool = True) -> Client:
    """A client for ``url``; credentials from the URL's user:password or OPENSEARCH_USERNAME/PASSWORD."""
    env = os.environ if environ is None else environ
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OpenSearchError(f"--opensearch-url must be an http(s) URL such as http://localhost:9200; got {url!r}")
    netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
    base = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
    username = parts.username or env.get("OPENSEARCH_USERNAME")
    password = parts.password or env.get("OPENSEARCH_PASSWORD")
    auth = basic_auth(username, password or "") if username else Auth("none", None, "anonymous")
    return Client(base, auth, timeout=30.0, verify=verify)


class OpenSearchIndexer:
    """Applies the template once, then bulk-indexes batches; returns what the cluster refused."""

    def __init__(self, client: Client, *, retries: int = 3, backoff_s: float = 0.5) -> None:
        self.client = client
        self.retries = retries
        self.backoff_s = backoff_s
        self.indexed = 0
        self.version = ""

    def prepare(self) -> str:
        """Check the cluster, apply the ingest pipeline then the index template; returns e.g. 'OpenSearch 2.13.0'."""
        info = self.client.get_json("/")
        if not isinstance(info, Mapping):
            raise OpenSearchError(f"{self.client.base_url} did not answer like an OpenSearch cluster")
        self.version = check_version(info)
        self.client.request("PUT", f"_ingest/pipeline/{PIPELINE_ID}", json_body=ingest_pipeline())
        self.client.request("PUT", f"_index_template/{TEMPLATE_NAME}", json_body=index_template(replicas=0))
        log.info(
            "OpenSearch %s at %s: ingest pipeline %s and index template %s applied",
            self.version,
            self.client.base_url,
            PIPELINE_ID,
            TEMPLATE_NAME,
        )
        return self.version

    @staticmethod
    def index_name(now: datetime) -> str:
        return INDEX_PREFIX + now.astimezone(UTC).strftime("%Y-%m-%d")

    def index(self, docs: Sequence[Mapping[str, Any]], now: datetime | None = None) -> list[Rejected]:
        if not docs:
            return []
        index = self.index_name(now or datetime.now(UTC))
        lines = []
        for doc in docs:
            # no _id, as Firehose with NO_DOCUMENT_ID: the index's default pipeline sets it from tweet_id
            lines.append(json.dumps({"index": {"_index": index}}, separators=(",", ":")))
            lines.append(json.dumps(doc, ensure_ascii=False, separators=(",", ":")))
        body = ("\n".join(lines) + "\n").encode("utf-8")
        last_error = ""
        backoff = Backoff(self.backoff_s, MAX_BACKOFF_S)
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(backoff.next())
            try:
                resp = self.client.session.post(
                    f"{self.client.base_url}/_bulk",
                    data=body,
                    headers={"Content-Type": "application/x-ndjson"},
                    auth=self.client.auth.requests_auth,
                    timeout=self.client.timeout,
                )
            except OSError as exc:  # requests' connection errors are OSErrors
                last_error = f"cannot reach {self.client.base_url}: {type(exc).__name__}"
                continue
            if resp.status_code in (429, 502, 503, 504):
                last_error = f"HTTP {resp.status_code}"
                continue
            if resp.status_code != 200:
                reason = f"_bulk failed with HTTP {resp.status_code}: {resp.text[:300]}"
                return [Rejected(doc, str(resp.status_code), reason, index) for doc in docs]
            return self._item_failures(docs, resp.json(), index)
        log.error(
            "OpenSearch bulk of %s document(s) failed after %s attempts: %s", len(docs), self.retries + 1, last_error
        )
        return [Rejected(doc, "503", f"OpenSearch unavailable: {last_error}", index) for doc in docs]

    def _item_failures(self, docs: Sequence[Mapping[str, Any]], answer: Any, index: str) -> list[Rejected]:
        items = answer.get("items") if isinstance(answer, Mapping) else None
        if not isinstance(items, list) or len(items) != len(docs):
            return [Rejected(doc, "500", "unreadable _bulk response", index) for doc in docs]
        rejected = []
        for doc, item in zip(docs, items, strict=True):
            result = item.get("index", {}) if isinstance(item, Mapping) else {}
            status = int(result.get("status", 500))
            if status >= 300:
                error = result.get("error") or {}
                reason = (
                    f"{error.get('type', 'error')}: {error.get('reason', '')}"
                    if isinstance(error, Mapping)
                    else str(error)
                )
                rejected.append(Rejected(doc, str(status), reason, index))
        self.indexed += len(docs) - len(rejected)
        return rejected
