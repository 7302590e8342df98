"""The deployer-IP wrapper's test doubles: a fake checkip service on 127.0.0.1 and a terraform stub that records
its argv and the ``TF_VAR_dashboards_allowed_cidrs`` it was given (one JSON line per call)."""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.support.commands import run as run_command
from tests.support.net import QuietHandler

PUBLIC_IP = "52.94.236.248"  # a global address: the wrapper refuses private and documentation ranges


@dataclass
class Lookup:
    """The fake checkip service: answers ``body`` with ``status`` and counts the requests."""

    url: str
    body: str = PUBLIC_IP + "\n"
    status: int = 200
    requests: list[str] = field(default_factory=list)


@contextmanager
def serve_lookup() -> Iterator[Lookup]:
    state = Lookup(url="")

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            state.requests.append(self.path)
            self.reply(state.status, state.body.encode())

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


RECORDER = """#!/usr/bin/env python3
# Stands in for terraform: records argv and the dashboards_allowed_cidrs it was given, one JSON line per call.
import json, os, sys
with open(os.environ["CALLS"], "a") as f:
    f.write(json.dumps({"argv": sys.argv[1:], "cidrs": os.environ.get("TF_VAR_dashboards_allowed_cidrs")}) + "\\n")
"""


@dataclass
class Run:
    returncode: int
    stderr: str
    calls: list[dict[str, Any]]


def terraform_stub(tmp_path: Path) -> Path:
    stub = tmp_path / "bin" / "terraform"
    stub.parent.mkdir(exist_ok=True)
    stub.write_text(RECORDER)
    stub.chmod(0o755)
    return stub


def record(tmp_path: Path, argv: list[str], env: dict[str, str] | None = None) -> Run:
    """Run argv from the repository root without this shell's TF_VAR_ values; the stub records what it was given."""
    calls = tmp_path / "calls.jsonl"
    calls.unlink(missing_ok=True)
    base = {k: v for k, v in os.environ.items() if not k.startswith("TF_VAR_")}
    proc = run_command(argv, env={**base, "CALLS": str(calls), **(env or {})})
    recorded = [json.loads(line) for line in calls.read_text().splitlines()] if calls.exists() else []
    return Run(proc.returncode, proc.stderr, recorded)


def run_wrapper(tmp_path: Path, lookup_url: str, tf_args: list[str], env: dict[str, str] | None = None) -> Run:
    stub = terraform_stub(tmp_path)
    argv = [sys.executable, "-m", "scripts.ops.deployer_ip", "--checkip-url", lookup_url, "--", str(stub), *tf_args]
    return record(tmp_path, argv, env)
