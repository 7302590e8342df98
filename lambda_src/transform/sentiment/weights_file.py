"""The embedded models' weights files: one header line (format, sha256 of the body), then the body, one JSON each.

Both embedded model families (English, ``transform.sentiment.embedded``; the other languages,
``transform.sentiment.multilingual``) write and read their files through this module, so the header, the checksum
and the canonical serialisation are defined once. The checksum covers the body's bytes, so verifying it costs a
hash, not a second serialisation.

Failure policy: a file that is missing, not of the expected format or fails its checksum raises
:class:`WeightsError` naming the file and the problem; callers decide whether that fails the cold start (English)
or the first request in that language (the others, loaded lazily).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any


class WeightsError(RuntimeError):
    """The weights file is missing, malformed or damaged; the message names the file and the problem."""


def checksum(body: bytes) -> str:
    """sha256 of the weights file's body (everything after its header line)."""
    return hashlib.sha256(body).hexdigest()


def serialise(document: dict[str, Any], fmt: str) -> bytes:
    """Byte-stable file content: a header line (format, sha256 of the body), then the body, canonical JSON."""
    body = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    header = json.dumps({"format": fmt, "sha256": checksum(body)}, sort_keys=True, separators=(",", ":"))
    return header.encode("ascii") + b"\n" + body


def read_verified(path: Path, fmt: str) -> tuple[str, bytes]:
    """(sha256 of the body, the body's bytes) of a weights file of format ``fmt`` whose checksum holds."""
    try:
        header_line, body = path.read_bytes().split(b"\n", 1)
        header = json.loads(header_line)
    except (OSError, ValueError) as exc:
        raise WeightsError(f"{path}: cannot read the sentiment weights: {exc}") from exc
    if not isinstance(header, dict) or header.get("format") != fmt:
        raise WeightsError(f"{path}: not a {fmt} weights file")
    digest = checksum(body)
    if header.get("sha256") != digest:
        raise WeightsError(f"{path}: checksum mismatch (damaged or edited weights file): retrain or rebuild")
    return digest, body
