"""The negative-spike alert as code: an SNS notification channel and one bucket-level monitor over ``rules``.

Failure policy: every step is find, compare, write only on difference (a rerun sends no write); an API the cluster
does not have (no Alerting or Notifications plugin, OpenSearch < 2.0) fails with the client's actionable error.

API shapes (OpenSearch 2.x; the Notifications plugin, and with it ``_plugins/_notifications``, exists from 2.0, and
a monitor action's ``destination_id`` names a Notifications channel from then on):

- channel: ``GET/POST/PUT _plugins/_notifications/configs[/<config_id>]``, ``config_type: sns`` with
  ``sns.topic_arn`` and ``sns.role_arn`` (the role OpenSearch assumes to publish). The channel is created with a
  fixed ``config_id`` (:data:`CHANNEL_ID`), so it is found again by id.
- monitor: ``POST _plugins/_alerting/monitors`` (the server picks the id), found again by name through
  ``_plugins/_alerting/monitors/_search``, read with ``GET .../monitors/<id>`` (``_seq_no``, ``_primary_term``) and
  replaced with ``PUT .../monitors/<id>?if_seq_no=…&if_primary_term=…``.

Why one bucket-level monitor and not a query monitor per rule: the rules live in the ingester's configuration,
not here, so a monitor per rule would go stale whenever a team adds a rule until someone reran the setup; a composite
aggregation over ``rules`` covers every rule present in the window, and the plugin keeps one alert per bucket (rule),
so two rules spiking give two alerts. Bucket-level monitors exist since OpenSearch 1.1.

The monitor is written the way the Alerting plugin stores it (a range query as ``from``/``to``/``include_*``, a term
query as ``{"value", "boost"}``, bool with ``adjust_pure_negative``, composite terms with ``missing_bucket`` and
``order``): what the plugin returns then contains what we send, and a rerun finds nothing to change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scripts.ops.opensearch.client import Client, OpenSearchError
from scripts.ops.opensearch.resources import INDEX_PATTERN, is_subset

MONITOR_NAME = "tweets-negative-spike"
CHANNEL_ID = "tweets-negative-spike-sns"
CHANNEL_NAME = "tweets negative spike (SNS)"
SCHEDULE_MINUTES = 5  # how often the monitor runs; each run looks back over the window
# Composite page size. Not a cap on rules: a bucket-level monitor run pages through every composite page (the
# Alerting plugin's BucketLevelMonitorRunner repeats the search while the aggregation returns an after_key), so
# every rule in the window is evaluated, RULES_PER_PAGE at a time.
RULES_PER_PAGE = 100
# The time field the window is on: when the ingester received the post, not its author's clock (created_at). A
# backlog drained late (an outage, a spooled hour), a replay, or an author's skewed clock puts created_at outside
# the last window_minutes, and such posts would never alert; received_at is in every document.
WINDOW_FIELD = "received_at"


@dataclass(frozen=True)
class SpikeThresholds:
    """When a rule's negative share counts as a spike: over the last ``window_minutes``, at least ``min_posts``
    scored posts of which more than ``negative_percent`` % are NEGATIVE. The limits match the Terraform variable's
    validation (terraform/variables.tf, ``sentiment_alert``)."""

    window_minutes: int = 15
    negative_percent: float = 40.0
    min_posts: int = 20

    def __post_init__(self) -> None:
        if not SCHEDULE_MINUTES <= self.window_minutes <= 1440:
            raise ValueError(
                f"the alert window must be {SCHEDULE_MINUTES}-1440 minutes (at least the monitor's "
                f"{SCHEDULE_MINUTES}-minute schedule, at most a day), got {self.window_minutes}"
            )
        if not 0 < self.negative_percent < 100:
            raise ValueError(f"the negative share threshold must be between 0 and 100 %, got {self.negative_percent}")
        if self.min_posts < 1:
            raise ValueError(f"the minimum number of posts must be at least 1, got {self.min_posts}")

    def describe(self) -> str:
        return f"NEGATIVE > {self.negative_percent:g} % of >= {self.min_posts} posts in {self.window_minutes} min"


def channel(topic_arn: str, role_arn: str) -> dict[str, Any]:
    """The body for ``POST _plugins/_notifications/configs`` (``PUT .../configs/<id>`` takes ``config`` alone)."""
    return {
        "config_id": CHANNEL_ID,
        "config": {
            "name": CHANNEL_NAME,
            "description": "Negative-sentiment spikes per tracked rule (monitor tweets-negative-spike), to SNS",
            "config_type": "sns",
            "is_enabled": True,
            "sns": {"topic_arn": topic_arn, "role_arn": role_arn},
        },
    }


def trigger_condition(thresholds: SpikeThresholds) -> str:
    """Painless over one bucket (rule): ``_count`` scored posts, ``negative`` of them NEGATIVE. Multiplying instead of
    dividing keeps it exact and free of integer division."""
    return (
        f"params._count >= {thresholds.min_posts} && "
        f"params.negative * 100.0 > {thresholds.negative_percent:g} * params._count"
    )


def monitor(thresholds: SpikeThresholds, channel_id: str = CHANNEL_ID) -> dict[str, Any]:
    """The body for ``POST``/``PUT _plugins/_alerting/monitors``."""
    window = f"{{{{period_end}}}}||-{thresholds.window_minutes}m"
    message = (
        f"Negative sentiment spike: more than {thresholds.negative_percent:g} % of at least {thresholds.min_posts} "
        f"scored posts received in the {thresholds.window_minutes} minutes up to {{{{ctx.periodEnd}}}} were "
        "NEGATIVE for these tracked rules: {{#ctx.newAlerts}}{{bucket_keys}} {{/ctx.newAlerts}}. "
        "Open the Tweet sentiment dashboard and filter on the rule."
    )
    return {
        "type": "monitor",
        "name": MONITOR_NAME,
        "monitor_type": "bucket_level_monitor",
        "enabled": True,
        "schedule": {"period": {"interval": SCHEDULE_MINUTES, "unit": "MINUTES"}},
        "inputs": [
            {
                "search": {
                    "indices": [INDEX_PATTERN],
                    "query": {
                        "size": 0,
                        "query": {
                            "bool": {
                                "filter": [
                                    {
                                        "range": {
                                            WINDOW_FIELD: {
                                                "from": window,
                                                "to": "{{period_end}}",
                                                "include_lower": True,
                                                "include_upper": True,
                                                "format": "epoch_millis",
                                                "boost": 1.0,
                                            }
                                        }
                                    },
                                    {"exists": {"field": "sentiment", "boost": 1.0}},
                                ],
                                "adjust_pure_negative": True,
                                "boost": 1.0,
                            }
                        },
                        "aggregations": {
                            "by_rule": {
                                "composite": {
                                    "size": RULES_PER_PAGE,
                                    "sources": [
                                        {"rule": {"terms": {"field": "rules", "missing_bucket": False, "order": "asc"}}}
                                    ],
                                },
                                "aggregations": {
                                    "negative": {"filter": {"term": {"sentiment": {"value": "NEGATIVE", "boost": 1.0}}}}
                                },
                            }
                        },
                    },
                }
            }
        ],
        "triggers": [
            {
                "bucket_level_trigger": {
                    "name": "negative share above threshold",
                    "severity": "2",
                    "condition": {
                        "buckets_path": {"_count": "_count", "negative": "negative>_count"},
                        "parent_bucket_path": "by_rule",
                        "script": {"source": trigger_condition(thresholds), "lang": "painless"},
                        "gap_policy": "skip",
                    },
                    "actions": [
                        {
                            "name": "notify SNS",
                            "destination_id": channel_id,
                            "subject_template": {"source": "Tweets: negative sentiment spike", "lang": "mustache"},
                            "message_template": {"source": message, "lang": "mustache"},
                            "throttle_enabled": False,
                            # one message when a rule starts spiking, none while it stays above the threshold
                            "action_execution_policy": {
                                "action_execution_scope": {"per_alert": {"actionable_alerts": ["NEW"]}}
                            },
                        }
                    ],
                }
            }
        ],
    }


def sync_channel(client: Client, topic_arn: str, role_arn: str) -> str:
    """Create or update the SNS channel; returns ``created``, ``updated`` or ``unchanged``."""
    desired = channel(topic_arn, role_arn)
    current = client.get_json(f"_plugins/_notifications/configs/{CHANNEL_ID}")
    configs = (current or {}).get("config_list") or []
    existing = next((c for c in configs if c.get("config_id") == CHANNEL_ID), None)
    if existing is None:
        client.request("POST", "_plugins/_notifications/configs", json_body=desired)
        return "created"
    if is_subset(desired["config"], existing.get("config") or {}):
        return "unchanged"
    client.request("PUT", f"_plugins/_notifications/configs/{CHANNEL_ID}", json_body={"config": desired["config"]})
    return "updated"


def find_monitor(client: Client, name: str = MONITOR_NAME) -> str | None:
    """The id of the monitor called ``name``; an error when several carry it (which one to update is unclear)."""
    # GET with a body, as the Alerting API documents it: a search is a read (POST would count as a write here)
    query = {"query": {"match_phrase": {"monitor.name": name}}}
    resp = client.request("GET", "_plugins/_alerting/monitors/_search", json_body=query, ok=(200, 404))
    if resp.status_code == 404:  # the alerting config index does not exist before the first monitor
        return None
    hits = ((resp.json() or {}).get("hits") or {}).get("hits") or []
    ids = [h["_id"] for h in hits if (h.get("_source") or {}).get("name") == name]
    if len(ids) > 1:
        raise OpenSearchError(
            f"{len(ids)} monitors are called {name!r} ({', '.join(ids)}): delete the extra ones "
            "(DELETE _plugins/_alerting/monitors/<id>) so the setup knows which to keep"
        )
    return ids[0] if ids else None


def sync_monitor(client: Client, thresholds: SpikeThresholds) -> str:
    """Create or update the monitor; returns ``created``, ``updated`` or ``unchanged``."""
    desired = monitor(thresholds)
    monitor_id = find_monitor(client)
    if monitor_id is None:
        client.request("POST", "_plugins/_alerting/monitors", json_body=desired)
        return "created"
    current = client.get_json(f"_plugins/_alerting/monitors/{monitor_id}") or {}
    if is_subset(desired, current.get("monitor") or {}):
        return "unchanged"
    client.request(
        "PUT",
        f"_plugins/_alerting/monitors/{monitor_id}",
        json_body=desired,
        params={"if_seq_no": current["_seq_no"], "if_primary_term": current["_primary_term"]},
    )
    return "updated"
