"""End to end: ``python -m scripts.demo`` as a user runs it (a subprocess, no terminal unless stated)."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import jsonschema

from tests.support.fake_opensearch import serve
from tests.support.paths import REPO_ROOT, SCHEMAS_DIR

SAMPLE = REPO_ROOT / "scripts" / "demo" / "data" / "sample_tweets.jsonl"
SCHEMA = json.loads((SCHEMAS_DIR / "document.schema.json").read_text())


def demo_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = f"{REPO_ROOT / 'lambda_src'}{os.pathsep}{REPO_ROOT}"
    env.pop("X_BEARER_TOKEN", None)
    env["TERM"] = "xterm-256color"
    return env


def run_demo(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scripts.demo", *args],
        cwd=REPO_ROOT,
        env=demo_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def rows(db: Path, sql: str = "SELECT doc FROM tweets") -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def interrupt_when(proc: subprocess.Popen[str], ready: Callable[[], bool]) -> tuple[str, str]:
    """Ctrl-C the demo once ``ready()`` holds (it asserts or polls; the demo must still run); its output."""
    try:
        while not ready():
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        return proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()


def failed_files(out: Path) -> list[Path]:
    root = out / "failed"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def sample_ids(n: int) -> list[str]:
    with SAMPLE.open(encoding="utf-8") as fh:
        return [json.loads(next(fh))["data"]["id"] for _ in range(n)]


def test_limit_500_stores_every_tweet_with_the_schema_fields(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = run_demo("--limit", "500", "--no-view", "--output-dir", str(out))
    assert proc.returncode == 0, proc.stderr
    docs = [json.loads(r[0]) for r in rows(out / "tweets.db")]
    assert len(docs) == 500
    assert sorted(d["tweet_id"] for d in docs) == sorted(sample_ids(500))
    for doc in docs:
        jsonschema.validate(doc, SCHEMA)
        if doc["lang"] == "en":
            assert doc["sentiment"] in {"POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED"}, doc
            assert doc["sentiment_score"] is not None
    # the flattened columns agree with the full document
    flat = rows(out / "tweets.db", "SELECT tweet_id, author_username, sentiment, doc FROM tweets")
    for tweet_id, username, sentiment, raw in flat:
        doc = json.loads(raw)
        assert (tweet_id, username, sentiment) == (doc["tweet_id"], doc["author"]["username"], doc["sentiment"])
    assert failed_files(out) == []
    assert "500 documents" in proc.stdout
    assert "--limit 500 reached" in proc.stdout
    assert "\x1b[" not in proc.stdout  # no terminal, no ANSI


def test_malformed_replay_lines_are_reported_not_fatal(tmp_path: Path) -> None:
    good = SAMPLE.read_bytes().splitlines(keepends=True)[:30]
    bad = [
        b'{"data": {"id": "1", "text": "truncated\n',  # bad JSON
        b"\xff\xfe not UTF-8 at all\n",  # non-UTF-8
        b'{"data": {"id": "77", "lang": "en"}}\n',  # missing text
        b'{"data": {"text": "no id"}}\n',  # missing id
        b"[1, 2, 3]\n",  # not an object
    ]
    replay = tmp_path / "replay.jsonl"
    replay.write_bytes(b"".join(good[:10] + bad[:3] + good[10:20] + bad[3:] + good[20:]))
    out = tmp_path / "out"
    proc = run_demo("--no-view", "--sample", str(replay), "--output-dir", str(out))
    assert proc.returncode == 0, proc.stderr
    assert len(rows(out / "tweets.db")) == 30
    assert "5 malformed skipped" in proc.stdout
    for reason in ("invalid_json", "not_utf8", "missing_text", "not_an_object"):
        assert reason in proc.stdout
    assert "line 11 skipped" in proc.stderr  # the first bad line, by number
    assert failed_files(out) == []


def test_replaying_twice_upserts_instead_of_duplicating(tmp_path: Path) -> None:
    out = tmp_path / "out"
    for _ in range(2):
        proc = run_demo("--limit", "100", "--no-view", "--output-dir", str(out))
        assert proc.returncode == 0, proc.stderr
    assert rows(out / "tweets.db", "SELECT count(*) FROM tweets") == [(100,)]


def test_duration_stops_a_looping_replay(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = run_demo("--loop", "--rate", "50", "--duration", "1", "--no-view", "--output-dir", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "--duration 1 s" in proc.stdout
    assert rows(out / "tweets.db", "SELECT count(*) FROM tweets")[0][0] > 0


def test_ctrl_c_stops_cleanly_and_keeps_what_was_read(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "scripts.demo", "--rate", "100", "--loop", "--no-view", "--output-dir", str(out)],
        cwd=REPO_ROOT,
        env=demo_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    stdout, stderr = interrupt_when(proc, lambda: proc.stdout.readline().startswith("["))  # the first progress line
    assert proc.returncode == 0, stderr
    assert "Ctrl-C" in stdout
    status = json.loads((out / "ingester-state" / "status.json").read_text())
    stored = rows(out / "tweets.db", "SELECT count(*) FROM tweets")[0][0]
    # Everything the ingester accepted reached the store (the sample has no repeats within one pass).
    assert stored == min(status["accepted"], 3000) > 0
    assert status["spool_records"] == 0


def test_live_view_draws_on_a_terminal(tmp_path: Path) -> None:
    out = tmp_path / "out"
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "scripts.demo", "--limit", "300", "--rate", "300", "--output-dir", str(out)],
        cwd=REPO_ROOT,
        env=demo_env(),
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=subprocess.PIPE,
    )
    os.close(slave)
    chunks = []
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                break
        proc.wait(timeout=30)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    screen = b"".join(chunks).decode("utf-8", errors="replace")
    assert proc.returncode == 0
    assert "\x1b[H" in screen  # redrawn in place
    assert "SENTIMENT" in screen
    assert "TOP HASHTAGS" in screen
    assert "\x1b[32m" in screen  # positive tweets in green
    assert "Demo finished" in screen
    assert rows(out / "tweets.db", "SELECT count(*) FROM tweets") == [(300,)]


def test_bad_flags_fail_with_a_message(tmp_path: Path) -> None:
    proc = run_demo("--rate", "-3", "--output-dir", str(tmp_path))
    assert proc.returncode == 2
    assert "--rate" in proc.stderr
    proc = run_demo("--sample", str(tmp_path / "missing.jsonl"), "--no-view", "--output-dir", str(tmp_path))
    assert proc.returncode == 2
    assert "no such file" in proc.stderr


def test_opensearch_url_indexes_with_the_template(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with serve() as fake:
        proc = run_demo("--limit", "200", "--no-view", "--output-dir", str(out), "--opensearch-url", fake.url)
    assert proc.returncode == 0, proc.stderr
    assert "tweets" in fake.state.templates
    (index,) = fake.state.indices.values()
    assert len(index) == 200  # the strict template accepted every document
    assert "indexed 200 document(s) into OpenSearch 2.13.0" in proc.stdout
    assert failed_files(out) == []


def test_unreachable_opensearch_fails_at_start_with_a_message(tmp_path: Path) -> None:
    from tests.support.net import free_port

    proc = run_demo("--no-view", "--output-dir", str(tmp_path), "--opensearch-url", f"http://127.0.0.1:{free_port()}")
    assert proc.returncode == 2
    assert "cannot connect" in proc.stderr


def test_the_whole_sample_arrives_with_no_arguments_but_the_output_dir(tmp_path: Path) -> None:
    # What `make demo` does without a terminal: the whole sample once, then exit 0 with the summary.
    out = tmp_path / "out"
    proc = run_demo("--output-dir", str(out))
    assert proc.returncode == 0, proc.stderr
    stored = {r[0] for r in rows(out / "tweets.db", "SELECT tweet_id FROM tweets")}
    assert stored == set(sample_ids(3000))
    assert "end of the replay file" in proc.stdout
    assert "3000 message(s) read, 0 malformed skipped" in proc.stdout
    assert failed_files(out) == []


def test_plain_python_m_from_the_repository_root_works_without_pythonpath(tmp_path: Path) -> None:
    # Given no PYTHONPATH (no make): __main__ re-executes once with lambda_src on PYTHONPATH, nothing edits sys.path
    env = demo_env()
    del env["PYTHONPATH"]
    proc = subprocess.run(
        [sys.executable, "-m", "scripts.demo", "--limit", "20", "--no-view", "--output-dir", str(tmp_path / "out")],
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert len(rows(tmp_path / "out" / "tweets.db")) == 20
