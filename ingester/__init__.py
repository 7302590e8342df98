"""The ingester daemon: X API v2 filtered stream (or a replay file) into Amazon Data Firehose."""

from __future__ import annotations

__version__ = "0.1.0"
