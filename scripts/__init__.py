"""Operator and build scripts: builds, OpenSearch setup, redrive, smoke test, the local demo, benchmarks."""
