"""``python -m scripts.ops.opensearch``: apply template, retention, role mapping and Dashboards objects."""

from __future__ import annotations

import sys

from scripts.ops.opensearch.setup import main

if __name__ == "__main__":
    sys.exit(main())
