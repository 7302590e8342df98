"""Fixtures for the demo's unit tests (the helpers they build on live in tests/support/demo.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.demo import make_doc


@pytest.fixture
def doc() -> dict[str, Any]:
    return make_doc()
