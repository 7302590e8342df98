"""The transform Lambda's modules import each other without a cycle (all imports, function-level ones included)."""

from __future__ import annotations

from tests.support.import_graph import find_cycle, import_graph
from tests.support.paths import REPO_ROOT


def test_the_transform_lambda_has_no_import_cycle() -> None:
    graph = import_graph(REPO_ROOT / "lambda_src", "transform")
    assert "transform.handler" in graph and "transform.settings" in graph["transform.handler"]
    assert find_cycle(graph) is None
