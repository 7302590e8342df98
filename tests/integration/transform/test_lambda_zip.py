"""The built zip: reproducible, minimal, and self-contained (runs with nothing but the stdlib and itself)."""

from __future__ import annotations

import json
import os
import shutil
import sys
import zipfile
from pathlib import Path

import pytest

from scripts.packaging import build_lambda
from tests.support.commands import run
from tests.support.paths import EVENTS_DIR, REPO_ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh build from the working tree (shares the build/wheels cache, so only the first run downloads)."""
    return build_lambda.build(tmp_path_factory.mktemp("build") / "transform.zip")


def test_rebuild_is_byte_identical_despite_mtimes_modes_and_bytecode(built_zip: Path, tmp_path: Path) -> None:
    # Given a copy of lambda_src with other timestamps and modes, and stray bytecode caches
    source = tmp_path / "lambda_src"
    shutil.copytree(REPO_ROOT / "lambda_src", source, ignore=shutil.ignore_patterns("__pycache__"))
    for path in source.rglob("*"):
        if path.is_file():
            os.utime(path, (2_000_000_000, 2_000_000_000))
            path.chmod(0o755 if path.suffix == ".py" else 0o600)
    cache = source / "transform" / "__pycache__"
    cache.mkdir()
    (cache / "handler.cpython-312.pyc").write_bytes(b"\x00junk")
    # When it is built again
    again = build_lambda.build(tmp_path / "again.zip", source_dir=source)
    # Then the bytes are the same
    assert again.read_bytes() == built_zip.read_bytes()


def test_zip_holds_the_package_schemas_and_runtime_deps_only(built_zip: Path) -> None:
    with zipfile.ZipFile(built_zip) as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]
    assert names == sorted(names)
    assert {"transform/handler.py", "transform/schemas/document.schema.json", "transform/schemas/envelope.schema.json",
            "transform/sentiment/embedded_weights.json", "vaderSentiment/vaderSentiment.py",
            "vaderSentiment/vader_lexicon.txt", "vaderSentiment/emoji_utf8_lexicon.txt",
            "vaderSentiment-3.3.2.dist-info/RECORD"} <= set(names)  # fmt: skip
    assert {name.split("/")[0] for name in names} == {"transform", "vaderSentiment", "vaderSentiment-3.3.2.dist-info"}
    for info in infos:
        assert "__pycache__" not in info.filename and not info.filename.endswith(".pyc")
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        assert info.external_attr >> 16 == 0o100644
    # the dist-info is the wheel's own (no INSTALLER, REQUESTED or direct_url.json from a pip install)
    assert not [n for n in names if n.endswith(("INSTALLER", "REQUESTED", "direct_url.json"))]


def test_zip_is_small(built_zip: Path) -> None:
    assert built_zip.stat().st_size < 5_000_000  # ~0.6 MB with the embedded model's weights; boto3 alone is ~10 MB


def test_the_weights_in_the_zip_are_the_verified_ones(built_zip: Path) -> None:
    from transform.sentiment.embedded import WEIGHTS_PATH

    with zipfile.ZipFile(built_zip) as archive:
        assert archive.read("transform/sentiment/embedded_weights.json") == WEIGHTS_PATH.read_bytes()


def test_build_refuses_a_source_without_the_weights(tmp_path: Path) -> None:
    source = tmp_path / "lambda_src"
    shutil.copytree(REPO_ROOT / "lambda_src", source, ignore=shutil.ignore_patterns("__pycache__"))
    (source / build_lambda.WEIGHTS).unlink()
    with pytest.raises(build_lambda.BuildError, match=r"embedded_weights\.json not found"):
        build_lambda.build(tmp_path / "t.zip", source_dir=source)


ISOLATED_RUN = r"""
import importlib.abc, json, os, sys
root = sys.argv[1]
assert not any("site-packages" in p for p in sys.path), sys.path
assert root not in sys.path
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"requests", "boto3", "botocore", "urllib3", "jsonschema"}:
            raise ImportError(f"{name} is blocked: the zip must not need it")
        return None
sys.meta_path.insert(0, Block())
sys.path.insert(0, root)  # what the Lambda runtime does with /var/task
import transform.handler as handler
import vaderSentiment.vaderSentiment as vs
for module in (handler, vs):
    assert module.__file__.startswith(root), module.__file__
event = json.load(open(sys.argv[2]))
response = handler.lambda_handler(event, None)
print(json.dumps({"response": response, "model": handler.get_runtime().backend.model_name}))
"""


@pytest.mark.parametrize(
    ("backend", "model"), [(None, "embedded-"), ("vader", "vader-3.3.2")], ids=["default-embedded", "vader"]
)
def test_handler_runs_from_the_unpacked_zip_alone(
    built_zip: Path, tmp_path: Path, backend: str | None, model: str
) -> None:
    # Given the zip unpacked into an empty folder, and an interpreter that sees neither the repo nor any
    # site-packages (-I: no PYTHON* variables, no script dir; -S: no site module, so no venv packages)
    root = tmp_path / "task"
    root.mkdir()
    with zipfile.ZipFile(built_zip) as archive:
        archive.extractall(root)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    if backend is not None:
        env["SENTIMENT_BACKEND"] = backend
    # When the handler runs there on the sample event
    argv = [sys.executable, "-I", "-S", "-c", ISOLATED_RUN, str(root), str(EVENTS_DIR / "firehose_basic.json")]
    proc = run(argv, cwd=tmp_path, env=env, timeout=120)
    # Then every record is transformed, by the default embedded model or VADER (and no requests, boto3 or
    # jsonschema), everything found in the zip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.splitlines()[-1])
    assert out["model"].startswith(model)
    assert [r["result"] for r in out["response"]["records"]] == ["Ok"] * 7


def test_lambda_cold_start_from_the_zip_needs_no_boto3_to_import(built_zip: Path, tmp_path: Path) -> None:
    root = tmp_path / "task"
    with zipfile.ZipFile(built_zip) as archive:
        archive.extractall(root)
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import transform.handler as h; "
        "print('boto3' in sys.modules, 'botocore' in sys.modules)"
    )
    proc = run([sys.executable, "-I", "-S", "-c", code, str(root)], cwd=tmp_path, env={"PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "False"]


def test_build_cli_prints_the_size(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert build_lambda.main(["--output", str(tmp_path / "t.zip")]) == 0
    out = capsys.readouterr().out
    size = (tmp_path / "t.zip").stat().st_size
    assert f"{size:,} bytes" in out


def test_a_wheel_that_does_not_match_its_pinned_hash_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "lambda_src"
    shutil.copytree(REPO_ROOT / "lambda_src" / "transform", source / "transform")
    (source / "requirements.txt").write_text("vaderSentiment==3.3.2 --hash=sha256:" + "0" * 64 + "\n")
    cache = tmp_path / "wheels"
    with pytest.raises(build_lambda.BuildError, match=r"pip download failed|no wheel"):
        build_lambda.build(tmp_path / "x.zip", source_dir=source, cache_dir=cache)


@pytest.mark.parametrize("line", ["vaderSentiment>=3", "vaderSentiment", "-e ."])
def test_unpinned_requirements_are_refused(tmp_path: Path, line: str) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text(f"# comment\n{line}\n")
    with pytest.raises(build_lambda.BuildError, match="expected 'name==version"):
        build_lambda.parse_requirements(path)
