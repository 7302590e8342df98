"""Prints how long each phase of the boot tests took (the test keeps them in the config stash)."""

from __future__ import annotations

import pytest

from tests.support.nspawn import TIMINGS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    timings = config.stash.get(TIMINGS, None)
    if not timings:
        return
    terminalreporter.write_sep("-", "boot test timings")
    for name, seconds in timings.items():
        terminalreporter.write_line(f"{name:<55} {seconds:6.1f} s")
