"""Test doubles for the ingester: a scriptable Firehose client, a list sink, tweet generators."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError, EndpointConnectionError

# behaviour(call_number, records) -> None (accept all) | set of indices to fail | Exception to raise
Behaviour = Callable[[int, list[bytes]], "set[int] | BaseException | None"]


class FakeFirehose:
    """Records every PutRecordBatch call; ``behaviour`` decides per call what fails."""

    def __init__(self, behaviour: Behaviour | None = None) -> None:
        self.behaviour = behaviour
        self.calls: list[list[bytes]] = []
        self.delivered: list[bytes] = []
        self.lock = threading.Lock()

    def put_record_batch(self, *, DeliveryStreamName: str, Records: list[dict[str, bytes]]) -> dict[str, Any]:
        assert DeliveryStreamName
        assert 1 <= len(Records) <= 500, len(Records)
        data = [r["Data"] for r in Records]
        assert sum(len(d) for d in data) <= 4 * 1024 * 1024
        with self.lock:
            self.calls.append(data)
            n = len(self.calls)
        outcome = self.behaviour(n, data) if self.behaviour else None
        if isinstance(outcome, BaseException):
            raise outcome
        failed = outcome or set()
        responses: list[dict[str, str]] = []
        with self.lock:
            for i, d in enumerate(data):
                if i in failed:
                    responses.append({"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "Slow down."})
                else:
                    self.delivered.append(d)
                    responses.append({"RecordId": f"r{n}-{i}"})
        return {"FailedPutCount": len(failed), "Encrypted": False, "RequestResponses": responses}

    def delivered_ids(self) -> list[str]:
        with self.lock:
            return [json.loads(d)["tweet"]["id"] for d in self.delivered]


def throttled() -> ClientError:
    return ClientError({"Error": {"Code": "ServiceUnavailableException", "Message": "Slow down."}}, "PutRecordBatch")


def unreachable() -> EndpointConnectionError:
    return EndpointConnectionError(endpoint_url="https://firehose.us-east-1.amazonaws.com")


def stream_message(i: int, *, text: str | None = None) -> dict[str, Any]:
    """A raw X v2 filtered-stream message for tweet ``i``."""
    return {
        "data": {
            "id": str(1_000_000 + i),
            "text": text if text is not None else f"tweet number {i} about #aws",
            "created_at": "2026-11-26T10:00:00.000Z",
            "lang": "en",
            "author_id": str(500 + i % 7),
            "conversation_id": str(1_000_000 + i),
            "entities": {"hashtags": [{"start": 19, "end": 23, "tag": "aws"}]},
            "public_metrics": {"retweet_count": 0, "reply_count": 0, "like_count": i % 5, "quote_count": 0},
        },
        "includes": {
            "users": [
                {
                    "id": str(500 + i % 7),
                    "username": f"user{i % 7}",
                    "name": f"User {i % 7}",
                    "public_metrics": {"followers_count": 10 * (i % 7)},
                }
            ]
        },
        "matching_rules": [{"id": "1790000000000000001", "tag": "aws"}],
    }


def tweet_id(i: int) -> str:
    return str(1_000_000 + i)


def write_replay(path: Path, n: int, *, start: int = 0) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for i in range(start, start + n):
            handle.write(json.dumps(stream_message(i)) + "\n")
    return path


class ListSink:
    def __init__(self) -> None:
        self.accepted: list[dict[str, Any]] = []
        self.dropped: list[str] = []

    @property
    def wants_more(self) -> bool:
        return True

    def accept(self, envelope: dict[str, Any]) -> bool:
        self.accepted.append(envelope)
        return True

    def drop(self, reason: str) -> None:
        self.dropped.append(reason)

    def reset_dedupe(self) -> None:
        pass
