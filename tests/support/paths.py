"""Where things are in the repository, for every test (one definition of each path)."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
EVENTS_DIR = REPO_ROOT / "tests" / "events"
SCHEMAS_DIR = REPO_ROOT / "lambda_src" / "transform" / "schemas"
