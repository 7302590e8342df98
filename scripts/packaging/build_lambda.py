"""Build dist/transform.zip: the transform package plus its runtime dependencies, byte-identical on rebuild.

    python scripts/packaging/build_lambda.py [--output dist/transform.zip] [--cache-dir build/wheels]

- The zip root holds ``transform/`` (with ``schemas/``, the contract, and ``embedded_weights.json``, the default
  backend's model: the build fails without it) and the contents of each wheel pinned in
  lambda_src/requirements.txt (with its ``*.dist-info``, exactly as in the wheel: no pip-install files such
  as INSTALLER or direct_url.json, so no RECORD differences between machines).
- Wheels are fetched once with ``pip download --no-deps --only-binary=:all:`` (through whatever index or
  mirror pip is configured with), checked against the sha256 in requirements.txt, and cached under
  build/wheels so rebuilds are offline and fast. Only pure-Python wheels are accepted (the zip must run on
  any Lambda architecture).
- Reproducible: entries sorted, timestamps fixed at 1980-01-01, modes 0644, no __pycache__ or *.pyc,
  fixed compression level. boto3/botocore are never bundled (the Lambda runtime provides them).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
LAMBDA_SRC = REPO_ROOT / "lambda_src"
DEFAULT_OUTPUT = REPO_ROOT / "dist" / "transform.zip"
DEFAULT_CACHE = REPO_ROOT / "build" / "wheels"
PACKAGE = "transform"
LAMBDA_PYTHON = "3.12"
FIXED_DATE = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644  # regular file, rw-r--r--
FORBIDDEN_TOP_LEVEL = frozenset({"boto3", "botocore", "s3transfer", "tests"})
WEIGHTS = f"{PACKAGE}/sentiment/embedded_weights.json"
"""The default backend's trained model: a zip without it would fail every embedded cold start."""
_REQUIREMENT = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;]+)(?P<options>(?:\s+--hash=sha256:[0-9a-f]{64})*)\s*$"
)


class BuildError(RuntimeError):
    """The build cannot produce a correct zip; the message says why and what to change."""


@dataclass(frozen=True)
class Requirement:
    name: str
    version: str
    sha256: frozenset[str]

    @property
    def wheel_prefix(self) -> str:
        return f"{canonical(self.name)}-{self.version}-"


def canonical(name: str) -> str:
    """Project name as wheel file names spell it, lower-cased for comparison (PEP 427 / 503)."""
    return re.sub(r"[-_.]+", "_", name).lower()


def parse_requirements(path: Path) -> list[Requirement]:
    requirements = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not line:
            continue
        match = _REQUIREMENT.match(line)
        if match is None:
            raise BuildError(f"{path}:{number}: expected 'name==version --hash=sha256:<hex>', got {raw.strip()!r}")
        hashes = frozenset(re.findall(r"sha256:([0-9a-f]{64})", match.group("options")))
        requirements.append(Requirement(match.group("name"), match.group("version"), hashes))
    return requirements


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _cached_wheel(req: Requirement, cache_dir: Path) -> Path | None:
    if not cache_dir.is_dir():
        return None
    for candidate in sorted(cache_dir.glob("*.whl")):
        if candidate.name.lower().startswith(req.wheel_prefix) and (
            not req.sha256 or sha256_of(candidate) in req.sha256
        ):
            return candidate
    return None


def fetch_wheels(requirements_file: Path, cache_dir: Path) -> list[Path]:
    """One verified, pure-Python wheel per requirement, downloading only what the cache lacks."""
    requirements = parse_requirements(requirements_file)
    missing = [req for req in requirements if _cached_wheel(req, cache_dir) is None]
    if missing:
        cache_dir.mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
            "--python-version", LAMBDA_PYTHON, "--dest", str(cache_dir), "-r", str(requirements_file),
        ]  # fmt: skip
        print(f"downloading {', '.join(f'{r.name}=={r.version}' for r in missing)} into {cache_dir}", flush=True)
        proc = subprocess.run(cmd, check=False, capture_output=True, text=True)
        if proc.returncode != 0:
            raise BuildError(f"pip download failed (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}")
    wheels = []
    for req in requirements:
        wheel = _cached_wheel(req, cache_dir)
        if wheel is None:
            raise BuildError(f"no wheel for {req.name}=={req.version} with the pinned sha256 in {cache_dir}")
        if not wheel.name.endswith("-none-any.whl"):
            raise BuildError(f"{wheel.name} is not a pure-Python wheel; the zip must not depend on the CPU")
        wheels.append(wheel)
    return wheels


def _excluded(relative: str) -> bool:
    parts = relative.split("/")
    return (
        "__pycache__" in parts
        or relative.endswith((".pyc", ".pyo"))
        or any(part.startswith(".") for part in parts)
        or parts[0] in FORBIDDEN_TOP_LEVEL
    )


def package_entries(source_dir: Path) -> dict[str, bytes]:
    """Files of lambda_src/<PACKAGE>, keyed by their path inside the zip."""
    root = source_dir / PACKAGE
    if not (root / "handler.py").is_file():
        raise BuildError(f"{root}/handler.py not found: is {source_dir} the lambda_src folder?")
    entries = {}
    for path in root.rglob("*"):
        relative = path.relative_to(source_dir).as_posix()
        if path.is_file() and not _excluded(relative):
            entries[relative] = path.read_bytes()
    if WEIGHTS not in entries:
        raise BuildError(f"{source_dir / WEIGHTS} not found: restore it from git, or `make train-sentiment DATA=...`")
    return entries


def wheel_entries(wheel: Path) -> dict[str, bytes]:
    """A pure-Python wheel's files as pip would install them into the zip root (purelib = root)."""
    entries = {}
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            name = info.filename
            if info.is_dir() or _excluded(name):
                continue
            if name.split("/", 1)[0].endswith(".data"):
                raise BuildError(f"{wheel.name} has a .data directory ({name}); not supported by this build")
            entries[name] = archive.read(info)
    return entries


def write_zip(entries: dict[str, bytes], output: Path) -> None:
    """Deterministic zip: sorted names, fixed dates, modes and compression; written atomically."""
    from ingester.storage.files import atomic_write  # the one fsync'ed "tmp then replace" (stdlib only)

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so external_attr carries the mode
            info.external_attr = FILE_MODE << 16
            archive.writestr(info, entries[name], compresslevel=9)
    output.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(output, buffer.getvalue(), mode=0o644)


def build(
    output: Path = DEFAULT_OUTPUT,
    *,
    source_dir: Path = LAMBDA_SRC,
    cache_dir: Path = DEFAULT_CACHE,
) -> Path:
    entries = package_entries(source_dir)
    for wheel in fetch_wheels(source_dir / "requirements.txt", cache_dir):
        for name, data in wheel_entries(wheel).items():
            if name in entries:
                raise BuildError(f"{wheel.name} would overwrite {name}")
            entries[name] = data
    write_zip(entries, output)
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="zip to write (default dist/transform.zip)")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE, help="wheel cache (default build/wheels)")
    parser.add_argument("--source-dir", type=Path, default=LAMBDA_SRC, help="folder holding transform/ (lambda_src)")
    args = parser.parse_args(argv)
    try:
        output = build(args.output, source_dir=args.source_dir, cache_dir=args.cache_dir)
    except BuildError as exc:
        print(f"build_lambda: {exc}", file=sys.stderr)
        return 1
    data = output.read_bytes()
    with zipfile.ZipFile(output) as archive:
        count = len(archive.namelist())
    digest = hashlib.sha256(data).hexdigest()
    print(f"wrote {output}: {len(data):,} bytes ({len(data) / 1024:.0f} KiB), {count} files, sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO_ROOT))
    sys.exit(main())
