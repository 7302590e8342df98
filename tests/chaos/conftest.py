"""The chaos tier: seeded, randomised fault schedules against each source and the writer (marker ``chaos``).

Settings (environment):

* ``CHAOS_SEED``: run this one seed (what a failure prints, to re-run it exactly);
* ``CHAOS_SEEDS``: how many seeds per test (default 1), starting at ``CHAOS_SEED`` or at the UTC day number, so
  a day's runs repeat and the next day's explore further (the day is read once, by the pytest process that starts
  the xdist workers, and handed to them as ``CHAOS_DAY``: workers started either side of midnight must collect the
  same test ids);
* ``CHAOS_SECONDS``: the fault schedule's length per seed and test (default 20 s: about 2 minutes for the tier).

Every test checks the invariant docs/operate.md states (Sources: the invariant and its bounds): every accepted post
is delivered, or reported dropped, or inside a reported gap; duplicates stay within the documented bound per
restart; progress resumes within a bound after the faults end.
"""

from __future__ import annotations

import os
import time

import pytest

DEFAULT_SECONDS = 20.0


def chaos_seconds() -> float:
    return float(os.environ.get("CHAOS_SECONDS", DEFAULT_SECONDS))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "seed" in metafunc.fixturenames:
        first = int(os.environ.get("CHAOS_SEED") or os.environ.get("CHAOS_DAY") or int(time.time() // 86_400))
        count = 1 if os.environ.get("CHAOS_SEED") and not os.environ.get("CHAOS_SEEDS") else None
        count = count or int(os.environ.get("CHAOS_SEEDS", "1"))
        metafunc.parametrize("seed", [first + i for i in range(count)], ids=lambda s: f"seed{s}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    seed = getattr(item, "callspec", None) and item.callspec.params.get("seed")
    if report.failed and seed is not None:
        report.sections.append(
            ("chaos seed", f"re-run with: CHAOS_SEED={seed} CHAOS_SECONDS={chaos_seconds():g} pytest {item.nodeid}")
        )
