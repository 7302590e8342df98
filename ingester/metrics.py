"""Optional CloudWatch custom metrics: one batched PutMetricData call per METRICS_INTERVAL_S (default 60 s)."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

log = logging.getLogger(__name__)

#: metric name -> counter in the stats snapshot (published as the delta since the previous call)
COUNTER_METRICS = {
    "Received": "read",
    "Delivered": "delivered",
    "Spooled": "spooled",
    "Dropped": "dropped_total",
    "DeadLettered": "dead_lettered",
    "Duplicates": "duplicates",
    "StorageErrors": "storage_errors",
    "Gaps": "gaps",  # stretches of the stream the source could not read (the ingester-stream-gap alarm)
    "GapSeconds": "gap_seconds",
    "DeletionsApplied": "deletions_applied",  # tombstones a target took (OpenSearch, per target)
    "DeletionFailures": "deletion_failures",  # delete calls refused or unanswered (ids stay pending, retried)
}


def spool_full_percent(snapshot: dict[str, Any]) -> float:
    """Spool bytes on disk as a share of SPOOL_MAX_BYTES, 0-100 (the spool-cap alarm watches it)."""
    cap = int(snapshot.get("spool_max_bytes") or 0)
    if cap <= 0:
        return 0.0
    return round(min(100.0, 100.0 * int(snapshot.get("spool_bytes", 0)) / cap), 2)


class CloudWatchClient(Protocol):
    def put_metric_data(self, *, Namespace: str, MetricData: list[dict[str, Any]]) -> Any: ...


class MetricsPublisher:
    def __init__(self, client: CloudWatchClient, namespace: str, delivery_stream: str) -> None:
        self._client = client
        self._namespace = namespace
        self._dimensions = [{"Name": "DeliveryStream", "Value": delivery_stream}]
        self._previous: dict[str, int] = {}

    def build(self, snapshot: dict[str, Any]) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = []
        for metric, key in COUNTER_METRICS.items():
            value = int(snapshot.get(key, 0))
            delta = value - self._previous.get(key, 0)
            self._previous[key] = value
            data.append({"MetricName": metric, "Dimensions": self._dimensions, "Value": delta, "Unit": "Count"})
        if snapshot.get("x_usage_percent") is not None:  # the X source, once it has read X's usage endpoint
            data.append(
                {
                    "MetricName": "XUsagePercent",
                    "Dimensions": self._dimensions,
                    "Value": float(snapshot["x_usage_percent"]),
                    "Unit": "Percent",
                }
            )
        data.append(
            {
                "MetricName": "StreamConnected",
                "Dimensions": self._dimensions,
                "Value": 1 if snapshot.get("stream_connected") else 0,
                "Unit": "None",
            }
        )
        data.append(
            {
                "MetricName": "SpoolRecords",
                "Dimensions": self._dimensions,
                "Value": int(snapshot.get("spool_records", 0)),
                "Unit": "Count",
            }
        )
        data.append(
            {
                "MetricName": "SpoolFullPercent",
                "Dimensions": self._dimensions,
                "Value": spool_full_percent(snapshot),
                "Unit": "Percent",
            }
        )
        data.append(
            {
                "MetricName": "DeletionsPending",
                "Dimensions": self._dimensions,
                "Value": int(snapshot.get("deletions_pending") or 0),
                "Unit": "Count",
            }
        )
        if snapshot.get("x_compliance_age_h") is not None:  # the X source only: Bluesky has no compliance job
            data.append(
                {
                    "MetricName": "XComplianceAgeHours",
                    "Dimensions": self._dimensions,
                    "Value": float(snapshot["x_compliance_age_h"]),
                    "Unit": "None",
                }
            )
        for metric, key in (("DeletionLagP50", "deletion_lag_p50_s"), ("DeletionLagP99", "deletion_lag_p99_s")):
            if snapshot.get(key) is not None:  # no deletion applied yet: no figure, rather than a made-up 0
                data.append(
                    {
                        "MetricName": metric,
                        "Dimensions": self._dimensions,
                        "Value": float(snapshot[key]),
                        "Unit": "Seconds",
                    }
                )
        return data

    def publish(self, snapshot: dict[str, Any]) -> bool:
        """One PutMetricData call; failures are logged, never raised (metrics must not stop ingestion)."""
        data = self.build(snapshot)
        try:
            self._client.put_metric_data(Namespace=self._namespace, MetricData=data)
        except (ClientError, BotoCoreError) as exc:
            log.warning("PutMetricData failed (%s); metrics for this interval are lost", type(exc).__name__)
            return False
        return True
