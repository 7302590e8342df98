"""The layout's rules that a change can quietly break: product modules stay small, every room says what it is for."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
#: What ships (the ingester bundle, the Lambda zip) or what users run (operator tools, the demo, the builds).
PRODUCT = ("ingester", "lambda_src", "scripts/ops", "scripts/demo", "scripts/packaging")
MAX_LINES = 600
ROOMS = ("scripts/ops", "scripts/demo", "scripts/packaging", "scripts/dev", "tests", "terraform")


def test_no_product_module_is_over_600_lines() -> None:
    long = {
        str(path.relative_to(REPO)): n
        for room in PRODUCT
        for path in (REPO / room).rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}, f"split these at their seams (docs/development.md): {long}"


def test_every_room_has_a_readme() -> None:
    assert [room for room in ROOMS if not (REPO / room / "README.md").is_file()] == []
