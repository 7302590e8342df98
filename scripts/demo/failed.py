"""Failed records on local disk, laid out like Firehose's S3 error output.

``<root>/processing-failed/YYYY/MM/DD/HH/<stream>-1-YYYY-MM-DD-HH-MM-SS-<uuid>``: records the transform
marked ProcessingFailed (or whole batches whose invocation failed), one JSON object per line with
``attemptsMade, arrivalTimestamp, errorCode, errorMessage, attemptEndingTimestamp, rawData (base64),
lambdaArn``, the format Firehose writes to S3. ``<root>/AmazonOpenSearchService-failed/...`` holds documents
the store rejected, in the format Firehose uses for documents OpenSearch rejects. The folder names and the line
format are ``ingester.firehose.failed_records``'s, which ``make redrive`` reads from S3.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingester.firehose.failed_records import encode_lines
from ingester.storage.files import atomic_write


class FailedWriter:
    """Writes one object (file) per batch and error prefix, atomically (temp file, then rename)."""

    def __init__(self, root: Path, stream_name: str = "demo") -> None:
        self.root = Path(root)
        self.stream_name = stream_name
        self.files_written = 0

    def write(self, prefix: str, entries: Sequence[Mapping[str, Any]], now: datetime | None = None) -> Path | None:
        if not entries:
            return None
        when = (now or datetime.now(UTC)).astimezone(UTC)
        folder = self.root / prefix / when.strftime("%Y/%m/%d/%H")
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{self.stream_name}-1-{when.strftime('%Y-%m-%d-%H-%M-%S')}-{uuid.uuid4()}"
        path = folder / name
        atomic_write(path, encode_lines(entries), mode=0o644)
        self.files_written += 1
        return path

    def files(self) -> list[Path]:
        """Every failed-record object under the root, sorted."""
        if not self.root.exists():
            return []
        return sorted(p for p in self.root.rglob("*") if p.is_file() and not p.name.startswith("."))
