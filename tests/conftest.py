"""Shared fixtures (helpers that tests import live in :mod:`tests.support`, never here).

REQUIRE_ALL_TESTS=1 (set by .ci/run) turns every skip into a failure, except tests marked ``opt_in``
(those need something CI cannot have, such as a real OpenSearch cluster). Tests that need terraform
or the moto server therefore always run in CI.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import requests

from tests.support.fake_opensearch import FakeOpenSearch, serve
from tests.support.net import free_port
from tests.support.paths import REPO_ROOT


def pytest_configure(config: pytest.Config) -> None:
    """The chaos tier's default seed is the UTC day: read it once, here, before xdist starts its workers (they
    inherit the environment), so every worker collects the same test ids even across midnight."""
    if not hasattr(config, "workerinput"):
        os.environ.setdefault("CHAOS_DAY", str(int(time.time() // 86_400)))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("REQUIRE_ALL_TESTS") == "1" and item.get_closest_marker("opt_in") is None:
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.longrepr = f"REQUIRE_ALL_TESTS=1 forbids skipping {item.nodeid}: {reason}"


@pytest.fixture(autouse=True)
def _dummy_aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs with dummy credentials and no real AWS endpoint reachable by accident."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Entry points (``ingester.cli.main``, the demo) configure logging as a process would; undo it after each test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in ("botocore", "boto3", "urllib3", "tweepy")}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, value in levels.items():
        logging.getLogger(name).setLevel(value)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """A moto server in its own process on 127.0.0.1; yields its endpoint URL."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.moto_server", "--port", str(port)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            requests.get(f"{url}/moto-api/", timeout=1)
            break
        except requests.ConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                proc.kill()
                pytest.fail(f"moto server did not start on {url}:\n{out}")
            time.sleep(0.2)
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def moto_endpoint(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The moto server, reset to empty, with AWS_ENDPOINT_URL pointing at it for this test."""
    requests.post(f"{moto_server}/moto-api/reset", timeout=10).raise_for_status()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    return moto_server


@pytest.fixture
def fake_os() -> Iterator[FakeOpenSearch]:
    """The fake OpenSearch + Dashboards server on 127.0.0.1 (OpenSearch setup, smoke and demo tests)."""
    with serve() as server:
        yield server
