"""The demo's HTML report as a user gets it: rewritten while ``python -m scripts.demo`` runs, and drawn by a real
browser (headless Chromium loads the page the demo wrote).

The browser test needs Debian's ``chromium`` (``.ci/run`` installs it); without it that test is skipped, which
REQUIRE_ALL_TESTS=1 turns into a failure.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scripts.demo.report import HEX
from tests.e2e.test_demo import demo_env
from tests.support.browser import Browser, find_chromium
from tests.support.paths import REPO_ROOT

CHROMIUM = find_chromium()

# Every panel, and the drawn shapes it must have on the sample (slices, bars, lines or table rows).
PANELS = {
    "panel-sentiment-donut": "path.slice",
    "panel-sentiment-by-rule": "polyline.line",
    "panel-net-sentiment": "polyline.line",
    "panel-languages": "rect.bar",
    "panel-negative-authors": "rect.bar",
    "panel-kinds": "rect.bar",
    "panel-hashtags": "rect.bar",
    "panel-entities": "rect.bar",
    "panel-topics": "rect.bar",
    "panel-engaged": "tbody tr",
}

MEASURE = """JSON.stringify(Object.fromEntries(Object.entries(%s).map(([id, selector]) => {
  const panel = document.getElementById(id);
  if (!panel) return [id, null];
  const drawn = [...panel.querySelectorAll(selector)].filter(e => {
    const box = e.getBoundingClientRect(); return box.width > 0 && box.height > 0; });
  const chart = panel.querySelector('svg, table').getBoundingClientRect();
  return [id, {drawn: drawn.length, width: chart.width, height: chart.height}];
})))"""

FILLS = """JSON.stringify(Object.fromEntries([...document.querySelectorAll('#panel-sentiment-donut path.slice')]
  .map(p => [p.dataset.sentiment, getComputedStyle(p).fill])))"""


# The net-sentiment legend: each swatch's drawn colour beside its rule's line colour (a fill attribute on the text
# was overridden by the stylesheet's `svg text` rule, so the legend drew every rule in the same grey).
LEGEND = """JSON.stringify({
  swatches: Object.fromEntries([...document.querySelectorAll('#panel-net-sentiment g.legend-entry')]
    .map(g => [g.dataset.key, getComputedStyle(g.querySelector('rect.swatch')).fill])),
  lines: Object.fromEntries([...document.querySelectorAll('#panel-net-sentiment polyline.line')]
    .map(l => [l.dataset.rule, getComputedStyle(l).stroke])),
  sentiments: [...document.querySelectorAll('#panel-sentiment-by-rule g.legend-entry')].map(g => g.dataset.key),
  utc: [...document.querySelectorAll('#panel-sentiment-by-rule text')].some(t => t.textContent.endsWith(' UTC')),
})"""

# Panels wider than their box scroll sideways; none may at an 800 px wide window.
OVERFLOW = """JSON.stringify([...document.querySelectorAll('section.panel')]
  .filter(p => p.scrollWidth > p.clientWidth + 1).map(p => p.id))"""


def rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


@pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (Debian: apt-get install chromium)")
def test_report_renders_every_panel_in_headless_chromium(tmp_path: Path) -> None:
    # Given the report of a demo run on 800 tweets of the sample
    out = tmp_path / "demo-output"
    run = subprocess.run(
        [sys.executable, "-m", "scripts.demo", "--no-view", "--rate", "0", "--limit", "800", "--output-dir", str(out)],
        cwd=REPO_ROOT, env=demo_env(), stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    report = out / "report.html"
    assert f"report        {report}" in run.stdout
    newest = sqlite3.connect(out / "tweets.db").execute("SELECT max(created_at) FROM tweets").fetchone()[0]
    age = datetime.now(UTC) - datetime.fromisoformat(newest)
    # the sample (dated 2026-11-26, 35 minutes long) was shifted so its newest tweet is dated at the run's start
    assert timedelta(0) <= age < timedelta(hours=1)
    page = report.read_text(encoding="utf-8")
    assert 'http-equiv="refresh"' not in page  # the final page no longer reloads

    # When Chromium opens it from file://
    assert CHROMIUM is not None
    browser = Browser(CHROMIUM, tmp_path / "profile")
    try:
        browser.open(report.resolve().as_uri())
        drawn = json.loads(browser.evaluate(MEASURE % json.dumps(PANELS)))
        fills = json.loads(browser.evaluate(FILLS))
        legend = json.loads(browser.evaluate(LEGEND))
        browser.screenshot(tmp_path / "report.png")
        errors, requests = browser.console_errors(), browser.network_requests()
    finally:
        browser.close()
    narrow = Browser(CHROMIUM, tmp_path / "profile-800", width=800)
    try:
        narrow.open(report.resolve().as_uri())
        scrolling = json.loads(narrow.evaluate(OVERFLOW))
    finally:
        narrow.close()

    # Then every panel is drawn, in the fixed colours, with no console error and no request off the machine
    for panel, shapes in drawn.items():
        assert shapes is not None, f"{panel} missing"
        assert shapes["drawn"] > 0 and shapes["width"] > 100 and shapes["height"] > 20, (panel, shapes)
    assert drawn["panel-sentiment-by-rule"]["drawn"] >= 6 * 3  # six rules, three or more sentiments each
    assert fills["NEGATIVE"] == rgb(HEX["NEGATIVE"]) and fills["POSITIVE"] == rgb(HEX["POSITIVE"])
    # the net-sentiment legend draws each rule in its line's colour, the per-rule charts name their sentiments
    # and their time zone, and at 800 px no panel scrolls sideways
    assert len(legend["lines"]) == 6 and legend["swatches"] == legend["lines"]
    assert len(set(legend["lines"].values())) == 6
    assert legend["sentiments"][:2] == ["POSITIVE", "NEGATIVE"] and legend["utc"]
    assert scrolling == []
    assert errors == []
    assert requests == []
    assert (tmp_path / "report.png").read_bytes().startswith(b"\x89PNG")


def test_report_is_rewritten_while_the_demo_runs_and_final_when_it_ends(tmp_path: Path) -> None:
    out = tmp_path / "demo-output"
    report = out / "report.html"
    argv = [
        sys.executable,
        "-m",
        "scripts.demo",
        "--no-view",
        "--rate",
        "100",
        "--limit",
        "500",
        "--output-dir",
        str(out),
    ]
    proc = subprocess.Popen(argv, cwd=REPO_ROOT, env=demo_env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    seen: set[str] = set()  # the document counts the page showed while the demo ran
    try:
        while proc.poll() is None:
            page = report.read_text(encoding="utf-8") if report.exists() else ""
            if 'http-equiv="refresh" content="3"' in page:
                seen.add(page.split('<div class="meta">', 1)[1].split(" documents", 1)[0])
            time.sleep(0.2)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert f"demo: HTML report {report.resolve().as_uri()}" in err
    assert len(seen) >= 2  # rewritten at least once with more documents (every 3 s over about 5 s)
    final = report.read_text(encoding="utf-8")
    assert 'http-equiv="refresh"' not in final and '<div class="meta">500 documents' in final
