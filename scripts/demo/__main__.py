"""Entry point: ``python -m scripts.demo`` (what ``make demo`` runs).

The demo runs the transform Lambda's package, ``transform``, which lives in ``lambda_src/`` (the Lambda's
deployment root, not a package of the repository root). The Makefile exports
``PYTHONPATH=lambda_src:.`` for every target, as pytest (``pythonpath``) and mypy (``mypy_path``) are told in
pyproject.toml. A plain ``python -m scripts.demo`` from the repository root without it is re-executed once,
before the demo is imported, with lambda_src put first on PYTHONPATH: the interpreter then builds its path
exactly as under make, and no module edits ``sys.path``. When lambda_src is already on PYTHONPATH and
``transform`` still cannot be imported, the import error is shown as it is (no second re-execution).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Mapping
from pathlib import Path

LAMBDA_SRC = Path(__file__).resolve().parents[2] / "lambda_src"


def environ_with_lambda_src(environ: Mapping[str, str]) -> dict[str, str] | None:
    """The environment to re-execute with, or None when ``transform`` imports (or PYTHONPATH already has it)."""
    if importlib.util.find_spec("transform") is not None:
        return None
    entries = [entry for entry in environ.get("PYTHONPATH", "").split(os.pathsep) if entry]
    if str(LAMBDA_SRC) in entries:
        return None
    return {**environ, "PYTHONPATH": os.pathsep.join([str(LAMBDA_SRC), *entries])}


def main() -> None:
    env = environ_with_lambda_src(os.environ)
    if env is not None:
        # The same interpreter with the same options and arguments (sys.orig_argv keeps -X, -W, -m scripts.demo).
        os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], env)  # noqa: S606 - no shell, by design
    from scripts.demo.app import main as run

    run()


if __name__ == "__main__":
    main()
