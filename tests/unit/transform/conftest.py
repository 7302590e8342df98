"""Fixtures for the transform unit tests (helpers live in support.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from transform import handler


@pytest.fixture(autouse=True)
def _fresh_runtime() -> Iterator[None]:
    """Each test builds the container runtime from its own environment."""
    handler.reset_runtime()
    yield
    handler.reset_runtime()
