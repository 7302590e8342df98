"""The ingester daemon: X API v2 filtered stream (or a replay file) into Amazon Data Firehose."""
