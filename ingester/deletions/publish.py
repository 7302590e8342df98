"""Tombstones published to S3 for ``make redrive``, which runs on an operator's machine, not on the box.

The redrive tool puts failed records back into Firehose; a record of a post deleted since must not go back. It
reads the tombstones from ``TOMBSTONES_S3_URI`` (``s3://<backup bucket>/tombstones/<service>.jsonl``): this module
rewrites that object with every live tombstone (ids only, never post text) whenever the set changed, at most
once per PUBLISH_MIN_INTERVAL_S. A tombstone recorded after the last publication is covered on AWS by the
deleter's re-apply window (the redriven copy is removed again within DELETION_REAPPLY_INTERVAL_S).

Failure policy: a failed upload is logged (once per failure streak) and retried at the next round; nothing else
waits for it.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import urlsplit

from ingester.deletions.store import Tombstone, tombstone_lines

log = logging.getLogger(__name__)

PUBLISH_MIN_INTERVAL_S = 30.0


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """(bucket, key) of ``s3://bucket/key``; ValueError otherwise."""
    parts = urlsplit(uri)
    if parts.scheme != "s3" or not parts.netloc or not parts.path.strip("/"):
        raise ValueError(f"expected s3://bucket/key, got {uri!r}")
    return parts.netloc, parts.path.lstrip("/")


class S3TombstonePublisher:
    def __init__(self, s3: Any, uri: str, *, min_interval_s: float = PUBLISH_MIN_INTERVAL_S) -> None:
        self.s3 = s3
        self.bucket, self.key = parse_s3_uri(uri)
        self.min_interval_s = min_interval_s
        self._published: tuple[int, float] | None = None
        self._last = -min_interval_s
        self._failing = False

    def __call__(self, stones: list[Tombstone]) -> bool:
        """Upload ``stones`` if they changed since the last upload; True when uploaded."""
        from botocore.exceptions import BotoCoreError, ClientError

        mark = (len(stones), max((s.recorded_at for s in stones), default=0.0))
        now = time.monotonic()
        if mark == self._published or now - self._last < self.min_interval_s:
            return False
        self._last = now
        try:
            self.s3.put_object(
                Bucket=self.bucket, Key=self.key, Body=tombstone_lines(stones), ContentType="application/x-ndjson"
            )
        except (BotoCoreError, ClientError) as exc:
            if not self._failing:
                self._failing = True
                log.error("could not publish the tombstones to s3://%s/%s: %s; retrying", self.bucket, self.key, exc)
            return False
        if self._failing:
            self._failing = False
            log.warning("tombstones published to s3://%s/%s again", self.bucket, self.key)
        self._published = mark
        return True
