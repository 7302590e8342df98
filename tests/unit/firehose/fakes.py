"""A scripted Firehose client for the component's put and for the tools built on it (redrive)."""

from __future__ import annotations

from typing import Any


class ScriptedFirehose:
    """put_record_batch answers from a script: each call fails the entries whose payload is in ``fail[call]``."""

    def __init__(self, fail: list[set[bytes]]) -> None:
        self.fail = fail
        self.calls: list[list[bytes]] = []

    def describe_delivery_stream(self, DeliveryStreamName: str) -> dict[str, Any]:
        return {"DeliveryStreamDescription": {"DeliveryStreamStatus": "ACTIVE"}}

    def put_record_batch(self, DeliveryStreamName: str, Records: list[dict[str, bytes]]) -> dict[str, Any]:
        failing = self.fail[len(self.calls)] if len(self.calls) < len(self.fail) else set()
        self.calls.append([r["Data"] for r in Records])
        responses = [
            {"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "Slow down."}
            if r["Data"] in failing
            else {"RecordId": "id"}
            for r in Records
        ]
        return {"FailedPutCount": sum("ErrorCode" in x for x in responses), "RequestResponses": responses}
