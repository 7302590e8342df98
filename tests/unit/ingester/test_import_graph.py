"""The ingester's modules import each other without a cycle (all imports, function-level ones included)."""

from __future__ import annotations

from tests.support.import_graph import find_cycle, import_graph
from tests.support.paths import REPO_ROOT


def test_the_ingester_has_no_import_cycle() -> None:
    graph = import_graph(REPO_ROOT, "ingester")
    assert "ingester.sources.x" in graph and graph["ingester.aws"] <= {"ingester.config"}
    assert find_cycle(graph) is None


def test_a_function_level_import_back_is_a_cycle() -> None:
    # The cycle this guards against: app -> sources.x -> secrets -> app, with the last edges inside functions.
    graph = {"app": {"sources.x"}, "sources.x": {"secrets"}, "secrets": {"app", "config"}, "config": set()}
    assert find_cycle(graph) == ["app", "sources.x", "secrets", "app"]
    graph["secrets"] = {"config"}
    assert find_cycle(graph) is None
