"""The ingester bundle: reproducible tarball, the right contents, and install.sh really installs it
(offline, from the bundled wheels) into a prefix, after which the installed daemon delivers to moto."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from tests.support.firehose import make_stream, read_back
from tests.support.ingester import tweet_id, write_replay
from tests.support.paths import REPO_ROOT

pytestmark = [pytest.mark.slow]


def build(output: Path, *extra: str) -> bytes:
    subprocess.run(
        [sys.executable, "scripts/packaging/build_ingester_bundle.py", "--output", str(output), *extra],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return output.read_bytes()


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bundle")
    first = build(out / "a.tar.gz")
    second = build(out / "b.tar.gz")
    assert hashlib.sha256(first).digest() == hashlib.sha256(second).digest(), "bundle is not reproducible"
    return out / "a.tar.gz"


def test_bundle_layout(bundle: Path) -> None:
    with tarfile.open(bundle) as tar:
        members = tar.getmembers()
        names = [m.name for m in members]
        manifest = json.loads(tar.extractfile("BUNDLE.json").read())  # type: ignore[union-attr]
        for name, digest in manifest["files"].items():
            assert hashlib.sha256(tar.extractfile(name).read()).hexdigest() == digest  # type: ignore[union-attr]
    assert names == sorted(names)
    assert {"install.sh", "requirements.txt", "tweet-ingester.service", "ingester/__main__.py"} <= set(names)
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc") or "/tests/" in n]
    assert {m.mtime for m in members} == {315_532_800}
    assert {(m.uid, m.gid, m.uname, m.gname) for m in members} == {(0, 0, "root", "root")}
    wheels = {n.split("/")[1].split("-")[0].lower() for n in names if n.startswith("wheels/") and n.endswith(".whl")}
    assert {"boto3", "botocore", "tweepy", "python_dotenv", "requests", "urllib3"} <= wheels
    # One bundle for arm64 and x86_64 boxes: every wheel is pure Python, none is tied to an architecture.
    assert manifest["platform"] == "any" and manifest["python"] == "cp311"
    wheel_tags = [n.removesuffix(".whl").split("-")[-3:] for n in names if n.endswith(".whl")]
    assert wheel_tags and all(abi == "none" and platform == "any" for _, abi, platform in wheel_tags), wheel_tags
    assert next(m for m in members if m.name == "install.sh").mode == 0o755


@pytest.mark.moto_server
def test_install_sh_installs_offline_and_the_daemon_runs(bundle: Path, tmp_path: Path, moto_endpoint: str) -> None:
    python311 = shutil.which("python3.11")
    if python311 is None:
        pytest.skip("python3.11 is not on PATH")
    src = tmp_path / "src"
    src.mkdir()
    with tarfile.open(bundle) as tar:
        tar.extractall(src, filter="data")
    env = {
        **os.environ,
        "TWEET_INGESTER_PREFIX": str(tmp_path / "opt"),
        "TWEET_INGESTER_UNIT_DIR": str(tmp_path / "systemd"),
        "TWEET_INGESTER_CONF_DIR": str(tmp_path / "etc"),
        "TWEET_INGESTER_PYTHON": python311,
        "TWEET_INGESTER_MANAGE_SYSTEM": "0",
        "PIP_NO_INDEX": "1",  # prove it is offline: no index, only the bundled wheels
    }
    env.pop("PYTHONPATH", None)
    for _ in range(2):  # the second run is an idempotent upgrade
        result = subprocess.run(
            ["bash", str(src / "install.sh")], check=False, env=env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "systemd" / "tweet-ingester.service").read_bytes() == (
        REPO_ROOT / "ingester" / "systemd" / "tweet-ingester.service"
    ).read_bytes()
    assert not list((tmp_path / "opt" / "app").rglob("__pycache__"))

    # The installed daemon, configured through its env file like the unit does, delivers to moto
    make_stream("tweets", "tweets-raw")
    replay = write_replay(tmp_path / "tweets.jsonl", 300)
    env_file = tmp_path / "etc" / "ingester.env"
    env_file.write_text(
        f"INGESTER_SOURCE=replay\nREPLAY_FILE={replay}\nDELIVERY_STREAM_NAME=tweets\nAWS_REGION=us-east-1\n"
        f"TRACKED_TERMS=aws,machine learning\nLINGER_MS=50\n"
    )
    run_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run_env |= {"INGESTER_ENV_FILE": str(env_file), "STATE_DIRECTORY": str(tmp_path / "state")}
    helper = tmp_path / "opt" / "bin" / "ingester"
    result = subprocess.run([str(helper), "run"], check=False, env=run_env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    ids = sorted(str(item["tweet"]["id"]) for item in read_back("tweets-raw"))  # type: ignore[index]
    assert ids == sorted(tweet_id(i) for i in range(300))
    status = subprocess.run(
        [str(helper), "status"], check=False, env=run_env, capture_output=True, text=True, timeout=60
    )
    assert status.returncode == 0 and "delivered        300" in status.stdout, status.stdout + status.stderr


def test_install_sh_under_a_strict_umask_leaves_the_install_usable_by_the_service_user(
    bundle: Path, tmp_path: Path
) -> None:
    """The service runs as its own user (User=tweet-ingester): whatever umask install.sh is run with (the
    user data once leaked 0027 into it: venv 0750 root:root, 203/EXEC), what the service reads must be
    readable by others and what it executes executable by others. An install left by a strict umask is
    repaired by the next run of install.sh."""
    python311 = shutil.which("python3.11")
    if python311 is None:
        pytest.skip("python3.11 is not on PATH")
    src, prefix = tmp_path / "src", tmp_path / "opt"
    src.mkdir()
    with tarfile.open(bundle) as tar:
        tar.extractall(src, filter="data")
    # Given a venv left by an install under a strict umask (0750 directories, 0640 files)
    subprocess.run(
        ["bash", "-c", f'umask 0077 && mkdir -p "{prefix}" && "{python311}" -m venv "{prefix}/venv"'],
        check=True,
        timeout=120,
    )
    assert (prefix / "venv" / "bin").stat().st_mode & 0o077 == 0
    env = {
        **{k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        "TWEET_INGESTER_PREFIX": str(prefix),
        "TWEET_INGESTER_UNIT_DIR": str(tmp_path / "systemd"),
        "TWEET_INGESTER_CONF_DIR": str(tmp_path / "etc"),
        "TWEET_INGESTER_PYTHON": python311,
        "TWEET_INGESTER_MANAGE_SYSTEM": "0",
        "PIP_NO_INDEX": "1",
    }
    # When install.sh runs under umask 0077
    result = subprocess.run(
        ["bash", "-c", f'umask 0077 && exec bash "{src}/install.sh"'],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # Then every directory the service walks is o+rx, every file it reads o+r, every executable o+x,
    # and nothing is group- or other-writable
    problems = []
    for top in (prefix, prefix / "venv", prefix / "app", prefix / "bin"):
        paths = [top] if top == prefix else [top, *top.rglob("*")]
        for path in paths:
            if path.is_symlink():
                continue
            mode = path.stat().st_mode & 0o777
            needed = 0o005 if path.is_dir() or mode & 0o100 else 0o004  # r-x for directories and executables
            if mode & needed != needed or mode & 0o022:
                problems.append(f"{oct(mode)} {path.relative_to(prefix)}")
    assert not problems, problems[:20]
    for unit_file in (tmp_path / "systemd" / "tweet-ingester.service", tmp_path / "etc" / "ingester.env.example"):
        assert unit_file.stat().st_mode & 0o777 == 0o644, unit_file
    assert (prefix / "venv" / "bin" / "python").resolve().stat().st_mode & 0o005 == 0o005
    assert (prefix / "bin" / "ingester").stat().st_mode & 0o777 == 0o755


@pytest.mark.moto_server
def test_both_sources_install_a_second_unit_whose_daemon_reads_bluesky(
    bundle: Path, tmp_path: Path, moto_endpoint: str
) -> None:
    """ingester_source = "both": the env file of the Bluesky service makes install.sh add its unit (the same unit
    with its own env file); the installed daemon, configured as that unit does, reads a (fake) Jetstream into
    Firehose with the bundled websockets (pure Python); without the env file the unit is removed again."""
    from tests.support.fake_jetstream import BASE_TIME_US, DID, fake_jetstream, post_event

    python311 = shutil.which("python3.11")
    if python311 is None:
        pytest.skip("python3.11 is not on PATH")
    src, etc, units = tmp_path / "src", tmp_path / "etc", tmp_path / "systemd"
    src.mkdir()
    etc.mkdir()
    with tarfile.open(bundle) as tar:
        tar.extractall(src, filter="data")
    env = {
        **os.environ,
        "TWEET_INGESTER_PREFIX": str(tmp_path / "opt"),
        "TWEET_INGESTER_UNIT_DIR": str(units),
        "TWEET_INGESTER_CONF_DIR": str(etc),
        "TWEET_INGESTER_PYTHON": python311,
        "TWEET_INGESTER_MANAGE_SYSTEM": "0",
        "PIP_NO_INDEX": "1",
    }
    env.pop("PYTHONPATH", None)
    make_stream("bluesky", "bluesky-raw")
    with fake_jetstream() as fake:
        bluesky_env = etc / "ingester-bluesky.env"
        bluesky_env.write_text(
            f"INGESTER_SOURCE=bluesky\nDELIVERY_STREAM_NAME=bluesky\nAWS_REGION=us-east-1\nTRACKED_TERMS=aws\n"
            f"STATE_DIR={tmp_path / 'state' / 'bluesky'}\nBLUESKY_ENDPOINTS={fake.url}\n"
            "LINGER_MS=50\nINGESTER_LIMIT=5\n"
        )
        result = subprocess.run(
            ["bash", str(src / "install.sh")], check=False, env=env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stdout + result.stderr
        unit = (units / "tweet-ingester-bluesky.service").read_text()
        assert f"EnvironmentFile={bluesky_env}\n" in unit and "Bluesky" in unit
        assert unit.replace(f"EnvironmentFile={bluesky_env}", "").count("EnvironmentFile=") == 0

        run_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        run_env |= {"INGESTER_ENV_FILE": str(bluesky_env), "STATE_DIRECTORY": str(tmp_path / "state")}
        daemon = subprocess.Popen(
            [str(tmp_path / "opt" / "bin" / "ingester"), "run"], env=run_env, stdout=subprocess.PIPE, text=True
        )
        try:
            deadline = time.monotonic() + 60
            while fake.connections() == 0:
                assert daemon.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)
            for i in range(10):
                fake.add(post_event(BASE_TIME_US + i, f"post {i} on AWS" if i % 2 else f"post {i}", rkey=f"3k{i}"))
            assert daemon.wait(timeout=60) == 0  # INGESTER_LIMIT=5: the five matching posts, then it exits
        finally:
            if daemon.poll() is None:
                daemon.kill()
    ids = sorted(str(item["tweet"]["id"]) for item in read_back("bluesky-raw"))  # type: ignore[index]
    assert ids == sorted(f"at://{DID}/app.bsky.feed.post/3k{i}" for i in range(1, 10, 2))
    assert (tmp_path / "state" / "bluesky" / "bluesky-cursor.json").is_file()

    bluesky_env.unlink()  # ingester_source back to x: the next install removes the second unit
    result = subprocess.run(
        ["bash", str(src / "install.sh")], check=False, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (units / "tweet-ingester-bluesky.service").exists()
