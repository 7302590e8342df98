"""The stream alarm with ingester_source = "both": two services publish StreamConnected under one dimension set."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import yaml

from tests.support.terraform import TERRAFORM_DIR

ALARMS = TERRAFORM_DIR / "modules" / "monitoring" / "alarms.yaml"
STATISTICS: dict[str, Callable[[Sequence[float]], float]] = {
    "Minimum": min,
    "Maximum": max,
    "Average": lambda values: sum(values) / len(values),
}


def breaches(points_per_minute: Sequence[float]) -> bool:
    alarm = yaml.safe_load(ALARMS.read_text(encoding="utf-8"))["ingester-stream-disconnected"]
    assert alarm["comparison"] == "LessThanThreshold" and alarm["period"] == 60
    return STATISTICS[alarm["stat"]](points_per_minute) < float(alarm["threshold"])


def test_one_stalled_source_of_two_breaches() -> None:
    # X connected (1), Bluesky without events (0): one point each a minute, the same metric
    assert breaches([1, 0])
    assert breaches([0, 1])


def test_both_sources_with_events_do_not_breach() -> None:
    assert not breaches([1, 1])
    assert not breaches([1])  # one source
    assert breaches([0])
