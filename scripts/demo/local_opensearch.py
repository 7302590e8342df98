"""``make demo-opensearch``: the demo into a local OpenSearch + OpenSearch Dashboards started with Docker Compose.

Steps: check that ``docker``, its Compose plugin and the daemon answer; ``docker compose -f
scripts/demo/opensearch-compose.yaml up -d``; wait until the cluster is yellow or green and Dashboards answers
``api/status``; apply the index template and import the dashboards with ``make opensearch-setup``'s own code
(:func:`scripts.ops.opensearch.setup.main`, roles skipped: the local cluster runs without the security plugin);
print the Dashboards URL; run the demo with ``--opensearch-url``. The dashboards are imported before the demo
starts so they fill in while it runs. The containers are left running (the data with them); the last lines say
how to stop them. ``--no-compose`` skips Docker and uses a cluster already listening at the URLs.

Failure policy: Docker, Compose or the daemon missing: one ``demo-opensearch: ...`` line on stderr and exit 2,
before anything is started. ``compose up`` failing: its own output, then exit 1. Not healthy within ``--wait``
seconds: exit 1 with the command that shows the containers' logs. The setup's and the demo's exit statuses are
passed through. Nothing is retried beyond the health polling.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import requests

from scripts.demo import app as demo_app
from scripts.ops.opensearch import setup as opensearch_setup

COMPOSE_FILE = Path(__file__).resolve().with_name("opensearch-compose.yaml")
OPENSEARCH_URL = "http://127.0.0.1:9200"
DASHBOARDS_URL = "http://127.0.0.1:5601"
LOCAL_RETENTION_DAYS = 7
# The compose file disables the security plugin, so the cluster ignores credentials; the setup tool insists on an
# auth mode, and basic auth with these placeholders is the one that sends nothing secret anywhere.
PLACEHOLDER_USER, PLACEHOLDER_PASSWORD = "local", "security-plugin-disabled"
EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2
PROG = "demo-opensearch"

Runner = Callable[..., subprocess.CompletedProcess[str]]


def docker_problem(which: Callable[[str], str | None] = shutil.which, run: Runner = subprocess.run) -> str | None:
    """Why Docker cannot start the stack (one line), or None when docker, docker compose and the daemon answer."""
    if which("docker") is None:
        return "needs Docker: no 'docker' on PATH (install Docker Engine or Docker Desktop, or use --no-compose)"
    checks = (
        (["docker", "compose", "version"], "needs the Docker Compose plugin: 'docker compose version' failed"),
        (["docker", "info"], "the Docker daemon does not answer: 'docker info' failed (is Docker running?)"),
    )
    for argv, message in checks:
        try:
            done = run(argv, capture_output=True, text=True, timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{message}: {exc}"
        if done.returncode != 0:
            return message
    return None


def wait_until_ready(opensearch_url: str, dashboards_url: str, *, timeout_s: float, poll_s: float = 2.0) -> str | None:
    """None once the cluster is yellow or green and Dashboards answers 200 on api/status; else what was last seen."""
    deadline = time.monotonic() + timeout_s
    last = "no answer yet"

    def cluster_usable(answer: requests.Response) -> bool:
        return answer.json().get("status") in ("yellow", "green")  # yellow: one node, replicas unassigned

    def answers(answer: requests.Response) -> bool:
        return True

    probes = ((f"{opensearch_url}/_cluster/health", cluster_usable), (f"{dashboards_url}/api/status", answers))
    for url, healthy in probes:
        while True:
            try:
                answer = requests.get(url, timeout=5)
                if answer.status_code == 200 and healthy(answer):
                    break
                last = f"{url} answered {answer.status_code}"
            except (requests.RequestException, ValueError) as exc:
                last = f"{url}: {type(exc).__name__}"
            if time.monotonic() >= deadline:
                return last
            time.sleep(poll_s)
    return None


def setup_argv(opensearch_url: str, dashboards_url: str) -> list[str]:
    """``python -m scripts.ops.opensearch``'s flags for the local cluster (no Terraform, no security plugin)."""
    return [
        "--no-terraform",
        "--endpoint", opensearch_url,
        "--dashboards-url", dashboards_url,
        "--username", PLACEHOLDER_USER,
        "--skip-roles",
        "--retention-days", str(LOCAL_RETENTION_DAYS),
        "--tenant", "",
    ]  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Start a local OpenSearch + Dashboards with Docker Compose, import the dashboards, run the demo "
        "into it. Arguments after -- go to the demo (e.g. -- --loop --rate 50).",
    )
    parser.add_argument("--compose-file", type=Path, default=COMPOSE_FILE, help="Compose file to start")
    parser.add_argument("--opensearch-url", default=OPENSEARCH_URL, help=f"the cluster (default {OPENSEARCH_URL})")
    parser.add_argument("--dashboards-url", default=DASHBOARDS_URL, help=f"Dashboards (default {DASHBOARDS_URL})")
    parser.add_argument("--wait", type=float, default=300.0, help="seconds to wait for health (default 300)")
    parser.add_argument("--no-compose", action="store_true", help="do not start Docker; use a running cluster")
    parser.add_argument("demo_args", nargs=argparse.REMAINDER, help="arguments for the demo, after --")
    return parser


def main(argv: Sequence[str] | None = None, *, run: Runner = subprocess.run) -> int:
    args = build_parser().parse_args(argv)
    demo_args = args.demo_args[1:] if args.demo_args[:1] == ["--"] else args.demo_args
    if not args.no_compose:
        problem = docker_problem(run=run)
        if problem:
            print(f"{PROG}: {problem}", file=sys.stderr)
            return EXIT_CONFIG
        if run(["docker", "compose", "-f", str(args.compose_file), "up", "-d"], check=False).returncode != 0:
            print(f"{PROG}: 'docker compose -f {args.compose_file} up -d' failed (see above)", file=sys.stderr)
            return EXIT_FAILED
    print(f"{PROG}: waiting for {args.opensearch_url} and {args.dashboards_url} (up to {args.wait:g} s)...", flush=True)
    problem = wait_until_ready(args.opensearch_url, args.dashboards_url, timeout_s=args.wait)
    if problem:
        logs = f"docker compose -f {args.compose_file} logs" if not args.no_compose else "the cluster's logs"
        print(f"{PROG}: not ready after {args.wait:g} s ({problem}); see {logs}", file=sys.stderr)
        return EXIT_FAILED
    code = opensearch_setup.main(
        setup_argv(args.opensearch_url, args.dashboards_url), environ={"OPENSEARCH_PASSWORD": PLACEHOLDER_PASSWORD}
    )
    if code != EXIT_OK:
        return code
    dashboards = f"{args.dashboards_url}/app/dashboards"
    print(f"{PROG}: dashboards imported; open {dashboards} (the demo's tweets appear as they are indexed)", flush=True)
    code = demo_app.run(["--opensearch-url", args.opensearch_url, *demo_args])
    print(f"{PROG}: Dashboards: {dashboards}", flush=True)
    if not args.no_compose:
        print(f"{PROG}: stop the cluster with: docker compose -f {args.compose_file} down  (-v also deletes its data)")
    return code


if __name__ == "__main__":
    sys.exit(main())
