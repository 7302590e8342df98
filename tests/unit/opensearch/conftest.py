"""Fixtures for the OpenSearch setup tests: a fake OpenSearch + Dashboards HTTP server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.unit.opensearch.fake_opensearch import FakeOpenSearch


@pytest.fixture
def fake_os() -> Iterator[FakeOpenSearch]:
    server = FakeOpenSearch().start()
    try:
        yield server
    finally:
        server.stop()
