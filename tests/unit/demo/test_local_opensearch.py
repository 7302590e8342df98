"""``make demo-opensearch``: the compose file's shape, the Docker checks, and the whole flow against the fake cluster.

Docker is not available where these tests run: the compose file is checked structurally (parsed with PyYAML,
which the dev environment has through moto[server]), and ``docker`` is replaced by a recorder.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts.demo import local_opensearch
from tests.support.fake_opensearch import FakeOpenSearch

COMPOSE = yaml.safe_load(local_opensearch.COMPOSE_FILE.read_text(encoding="utf-8"))


class Docker:
    """Stands in for subprocess.run on ``docker ...``: records each argv, fails the ones named in ``failing``."""

    def __init__(self, failing: tuple[str, ...] = ()) -> None:
        self.calls: list[list[str]] = []
        self.failing = failing

    def __call__(self, argv: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        self.calls.append(argv)
        failed = any(word in argv for word in self.failing)
        return subprocess.CompletedProcess(argv, 1 if failed else 0, "", "")


def test_compose_file_is_a_local_single_node_opensearch_2_without_security() -> None:
    services = COMPOSE["services"]
    assert set(services) == {"opensearch", "dashboards"}
    opensearch, dashboards = services["opensearch"], services["dashboards"]
    assert opensearch["image"].startswith("opensearchproject/opensearch:2.")
    assert dashboards["image"] == opensearch["image"].replace("opensearch:", "opensearch-dashboards:")
    for service in services.values():  # published on the loopback interface only
        assert service["ports"] and all(port.startswith("127.0.0.1:") for port in service["ports"])
    assert opensearch["ports"] == ["127.0.0.1:9200:9200"] and dashboards["ports"] == ["127.0.0.1:5601:5601"]
    env = opensearch["environment"]
    assert env["discovery.type"] == "single-node"
    assert env["DISABLE_SECURITY_PLUGIN"] == "true" and env["DISABLE_INSTALL_DEMO_CONFIG"] == "true"
    assert "-Xmx512m" in env["OPENSEARCH_JAVA_OPTS"]
    assert dashboards["environment"]["DISABLE_SECURITY_DASHBOARDS_PLUGIN"] == "true"
    assert "http://opensearch:9200" in dashboards["environment"]["OPENSEARCH_HOSTS"]
    assert dashboards["depends_on"]["opensearch"]["condition"] == "service_healthy"
    assert "opensearch-data" in COMPOSE["volumes"]


@pytest.mark.parametrize(
    ("which", "failing", "expected"),
    [
        (None, (), "no 'docker' on PATH"),
        ("/usr/bin/docker", ("compose",), "Docker Compose plugin"),
        ("/usr/bin/docker", ("info",), "Docker daemon does not answer"),
        ("/usr/bin/docker", (), None),
    ],
)
def test_docker_problem_names_what_is_missing(
    which: str | None, failing: tuple[str, ...], expected: str | None
) -> None:
    problem = local_opensearch.docker_problem(lambda _: which, Docker(failing))
    assert (problem is None) if expected is None else (expected in str(problem))


def test_without_docker_one_line_and_exit_2_before_anything_starts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    docker = Docker()
    assert local_opensearch.main([], run=docker) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("demo-opensearch: needs Docker")
    assert docker.calls == []


def test_the_flow_starts_compose_imports_the_dashboards_and_indexes_the_demo(
    fake_os: FakeOpenSearch, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(local_opensearch, "docker_problem", lambda run: None)
    fake_os.state.data_nodes = 1  # the compose file's single node
    docker = Docker()
    argv = ["--opensearch-url", fake_os.url, "--dashboards-url", fake_os.url, "--wait", "10",
            "--", "--no-view", "--rate", "0", "--limit", "200", "--output-dir", str(tmp_path / "out")]  # fmt: skip
    assert local_opensearch.main(argv, run=docker) == 0
    assert docker.calls == [["docker", "compose", "-f", str(local_opensearch.COMPOSE_FILE), "up", "-d"]]
    out = capsys.readouterr().out
    assert f"open {fake_os.url}/app/dashboards" in out
    assert "security roles and mappings" in out and "skipped" in out  # no security plugin locally
    assert fake_os.state.saved_objects  # the dashboards were imported by the setup code
    assert sum(len(docs) for docs in fake_os.state.indices.values()) == 200  # and the demo indexed into the cluster
    assert local_opensearch.main(argv, run=docker) == 0  # a second run: everything already in place
    second = capsys.readouterr().out
    assert "everything was already in place" in second, second


def test_not_ready_in_time_exits_1_naming_the_logs_command(capsys: pytest.CaptureFixture[str]) -> None:
    code = local_opensearch.main(
        ["--no-compose", "--opensearch-url", "http://127.0.0.1:9", "--dashboards-url", "http://127.0.0.1:9",
         "--wait", "0"]
    )  # fmt: skip
    assert code == 1
    assert "not ready after 0 s" in capsys.readouterr().err
