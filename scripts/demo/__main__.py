"""Entry point: ``python -m scripts.demo`` (what ``make demo`` runs)."""

from __future__ import annotations

import sys
from pathlib import Path

# The transform Lambda's package lives in lambda_src/ (the Makefile puts it on PYTHONPATH); make a plain
# ``python -m scripts.demo`` from the repository root work too.
LAMBDA_SRC = str(Path(__file__).resolve().parents[2] / "lambda_src")
if LAMBDA_SRC not in sys.path:
    sys.path.append(LAMBDA_SRC)

from scripts.demo.app import main  # noqa: E402

if __name__ == "__main__":
    main()
