"""The OpenSearch target of the deleter: ``POST /tweets-*/_delete_by_query`` signed with SigV4 (service ``es``).

Amazon OpenSearch Service takes IAM-signed requests (the instance role's credentials); fine-grained access
control maps that role to the ``tweets_deleter`` security role (scripts/ops/opensearch/data/roles.json), which may
only delete documents and search in ``tweets-*``. One query removes both kinds of tombstone:
``tweet_id`` in the post ids, or ``author.id`` in the author ids; ``conflicts=proceed`` so a document being
re-indexed at that moment does not abort the rest, ``refresh=true`` so a search right after no longer sees it.

Failure policy: any answer but a 200 without ``failures`` raises :class:`DeletionFailed` with the status (429,
5xx, 403 from a missing role mapping, a network error): the deleter keeps the ids pending and retries them.
The request body holds ids only, never post text; nothing of a response is logged but its status and error type.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from ingester.aws import sigv4_headers
from ingester.deletions.deleter import DeletionFailed

INDEX_PATTERN = "tweets-*"
TIMEOUT_S = 30.0


def delete_query(posts: Sequence[str], authors: Sequence[str]) -> dict[str, Any]:
    """The ``_delete_by_query`` body for these ids (the same for OpenSearch and the tests' fake)."""
    should: list[dict[str, Any]] = []
    if posts:
        should.append({"terms": {"tweet_id": list(posts)}})
    if authors:
        should.append({"terms": {"author.id": list(authors)}})
    return {"query": {"bool": {"should": should, "minimum_should_match": 1}}}


class OpenSearchDeleteTarget:
    """``endpoint`` is the domain's https URL (or a test's http://127.0.0.1 fake); ``signer`` signs a request
    (SigV4 on AWS; None sends it unsigned, for a local cluster with the security plugin off)."""

    name = "opensearch"

    def __init__(self, endpoint: str, *, signer: Any | None = None, index_pattern: str = INDEX_PATTERN) -> None:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            raise ValueError(f"OpenSearch endpoint must be an http(s) URL, got {endpoint!r}")
        self.endpoint = endpoint.rstrip("/")
        self.signer = signer
        self.index_pattern = index_pattern

    def delete(self, posts: Sequence[str], authors: Sequence[str]) -> int:
        if not posts and not authors:
            return 0
        url = f"{self.endpoint}/{self.index_pattern}/_delete_by_query?conflicts=proceed&refresh=true"
        body = json.dumps(delete_query(posts, authors), separators=(",", ":")).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        if self.signer is not None:
            headers = self.signer(url, body, headers)
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 (http(s) checked)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310 (http(s) checked)
                answer = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise DeletionFailed(f"HTTP {exc.code} from _delete_by_query", status=exc.code) from None
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            raise DeletionFailed(f"cannot reach OpenSearch: {type(exc).__name__}") from None
        except ValueError:
            raise DeletionFailed("_delete_by_query answered with something that is not JSON") from None
        failures = answer.get("failures") if isinstance(answer, dict) else None
        if failures:
            first = failures[0] if isinstance(failures, list) and failures else {}
            cause = first.get("cause", {}) if isinstance(first, dict) else {}
            raise DeletionFailed(f"_delete_by_query reported {len(failures)} failure(s): {cause.get('type', '?')}")
        deleted = answer.get("deleted", 0) if isinstance(answer, dict) else 0
        return int(deleted) if isinstance(deleted, int) else 0


def sigv4_signer(region: str | None, session: Any | None = None) -> Any:
    """A signer for :class:`OpenSearchDeleteTarget`: SigV4 for service ``es`` with the default credential chain
    (the instance role on EC2), credentials refreshed by botocore as they rotate. Raises ValueError without a
    region or credentials."""
    import boto3

    session = session or boto3.Session()
    region = region or session.region_name
    if not region:
        raise ValueError("no AWS region (set AWS_REGION)")
    credentials = session.get_credentials()
    if credentials is None:
        raise ValueError("no AWS credentials for signing OpenSearch requests (the instance role is missing?)")

    def sign(url: str, body: bytes, headers: dict[str, str]) -> dict[str, str]:
        return sigv4_headers(credentials, region, method="POST", url=url, body=body, headers=headers)

    return sign
