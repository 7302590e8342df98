"""The unit tier (``make test-fast``): tests that run in this process, with no build, no terraform, no make, no
emulator in another process and no network beyond loopback servers the test itself starts in a thread.

Setup fails a unit test that reaches for the integration tier's tools (its fixtures, its markers, or the
``make`` helpers), so the fast tier stays fast by construction rather than by habit: such a test belongs under
``tests/integration/<component>/``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import commands

UNIT_DIR = Path(__file__).resolve().parent
INTEGRATION_FIXTURES = frozenset({"moto_server", "moto_endpoint", "terraform_copy"})
INTEGRATION_MARKERS = frozenset({"moto_server", "terraform", "boot"})
INTEGRATION_HELPERS = (commands.make, commands.make_dry_run)


def integration_needs(item: pytest.Item) -> list[str]:
    """What makes ``item`` an integration test (empty for a true unit test)."""
    found = [f"fixture {name}" for name in sorted(INTEGRATION_FIXTURES & set(getattr(item, "fixturenames", ())))]
    found += [f"marker {mark.name}" for mark in item.iter_markers() if mark.name in INTEGRATION_MARKERS]
    names = vars(getattr(item, "module", None) or object).values()
    # Identity, not equality: a module may hold objects equal to anything (botocore.stub.ANY).
    found += [f"helper {helper.__name__}" for helper in INTEGRATION_HELPERS if any(v is helper for v in names)]
    return found


def pytest_runtest_setup(item: pytest.Item) -> None:
    if UNIT_DIR in item.path.parents and (needs := integration_needs(item)):
        pytest.fail(f"an integration test under tests/unit ({', '.join(needs)}): move it to tests/integration/")
