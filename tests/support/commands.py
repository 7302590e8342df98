"""Running the project's commands from tests the way a user does: from the repository root, output captured.

``run`` is the one place that says how a test runs a subprocess (text output, a timeout so a hung tool fails the
test instead of the run, the exit status left to the test to assert); ``make`` and ``make_dry_run`` run the
Makefile's targets through it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from tests.support.paths import REPO_ROOT

needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")


#: What a parent make (``make test`` runs pytest) exports to its children. A user's shell has none of these: left in,
#: a ``make`` a test runs would print ``make[1]: Entering directory`` lines and share the parent's job server.
PARENT_MAKE_VARIABLES = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "MAKE_TERMOUT", "MAKE_TERMERR")


def user_shell_env(env: Mapping[str, str] | None) -> dict[str, str]:
    """``env`` (default: this process's environment) as a user's shell would have it: no parent make's variables."""
    base = os.environ if env is None else env
    return {k: v for k, v in base.items() if k not in PARENT_MAKE_VARIABLES}


def run(
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path = REPO_ROOT,
    input: str | None = None,
    timeout: float = 60,
    check: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run ``args`` in ``cwd`` (default: the repository root) with ``env`` (default: this process's environment),
    without a parent make's variables (:func:`user_shell_env`)."""
    return subprocess.run(
        list(args),
        cwd=cwd,
        env=user_shell_env(env),
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=check,
    )


def make(*args: str, env: Mapping[str, str] | None = None, binary: str = "make") -> subprocess.CompletedProcess[str]:
    """``make --no-print-directory ARGS`` in the repository root; the test asserts the exit status."""
    return run([binary, "--no-print-directory", *args], env=env)


def make_dry_run(*args: str) -> list[str]:
    """``make -n ARGS``: the commands the targets would run, one a line (a recipe's backslash-continued lines
    joined into one); nothing is executed, and a make error fails the test."""
    return run(["make", "-n", "--no-print-directory", *args], check=True).stdout.replace("\\\n", " ").splitlines()
