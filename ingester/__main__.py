"""``python -m ingester``."""

from __future__ import annotations

import sys

from ingester.cli import main

if __name__ == "__main__":
    sys.exit(main())
