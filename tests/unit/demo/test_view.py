"""Rendering of the live view, progress lines and summary (pure functions: a snapshot in, text out)."""

from __future__ import annotations

import io
import re

import pytest

from scripts.demo.delivery import LatestTweet, Snapshot
from scripts.demo.view import (
    COLORS,
    LiveView,
    Summary,
    display_width,
    fit,
    percentile,
    render_frame,
    render_progress,
    render_summary,
)

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def snapshot(**overrides: object) -> Snapshot:
    values: dict[str, object] = {
        "elapsed_s": 75.4,
        "stored": 1000,
        "processing_failed": 0,
        "store_rejected": 0,
        "dropped": 0,
        "batches": 9,
        "rate_now": 199.5,
        "sentiments": {"POSITIVE": 500, "NEGATIVE": 250, "NEUTRAL": 150, "MIXED": 0, "SKIPPED": 100},
        "top_hashtags": [("python", 40), ("coffee", 12)],
        "latest": [
            LatestTweet("NEGATIVE", "en", "sam_khan", "My head is killing me.\nI hate migraines"),
            LatestTweet("SKIPPED", "ja", "hiro", "電車が遅れてつらい" * 20),
            LatestTweet("POSITIVE", "en", "ana", "LMAO, AMAZING!"),
        ],
        "langs": {"en": 900, "ja": 100},
        "failed_by_code": {},
        "latencies_ms": [100.0, 200.0, 300.0, 400.0],
    }
    values.update(overrides)
    return Snapshot(**values)  # type: ignore[arg-type]


def test_frame_shows_rate_counts_shares_hashtags_and_latest_newest_first() -> None:
    frame = render_frame(snapshot(), width=100, color=False)
    assert "199.5 tweets/s" in frame
    assert "stored 1,000" in frame
    assert "01:15" in frame
    assert re.search(r"positive\s+█+░*\s+500\s+50\.0%", frame)
    assert re.search(r"no score\s+█+░*\s+100\s+10\.0%", frame)
    assert "#python" in frame and "40" in frame
    latest = frame.split("LATEST")[1]
    assert latest.index("@ana") < latest.index("@hiro") < latest.index("@sam_khan")
    assert "killing me. I hate" in frame  # the newline became a space
    assert "\x1b" not in frame


@pytest.mark.parametrize("width", [60, 80, 132])
def test_every_line_fits_the_terminal_width(width: int) -> None:
    for color in (False, True):
        frame = render_frame(snapshot(), width=width, color=color)
        for line in frame.split("\n"):
            assert display_width(ANSI.sub("", line)) <= width, line


def test_colours_follow_sentiment() -> None:
    frame = render_frame(snapshot(), width=100, color=True)
    (neg_line,) = [line for line in frame.split("\n") if "@sam_khan" in line]
    assert neg_line.startswith(COLORS["NEGATIVE"])
    (pos_line,) = [line for line in frame.split("\n") if "@ana " in line]
    assert pos_line.startswith(COLORS["POSITIVE"])


def test_failures_and_malformed_lines_are_visible() -> None:
    snap = snapshot(processing_failed=3, failed_by_code={"Lambda.ProcessingFailed": 3})
    snap.source = {"read": 1010, "malformed": 7}
    frame = render_frame(snap, width=100, color=False)
    assert "failed 3" in frame
    assert "malformed 7" in frame
    assert "Lambda.ProcessingFailed 3" in frame


def test_empty_snapshot_renders() -> None:
    empty = snapshot(stored=0, sentiments=dict.fromkeys(("POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED", "SKIPPED"), 0),
                     top_hashtags=[], latest=[], latencies_ms=[])  # fmt: skip
    frame = render_frame(empty, width=80, color=False)
    assert "0.0%" in frame
    assert "latency p50 -" in frame


def test_fit_counts_wide_characters_twice() -> None:
    assert fit("abc", 5) == "abc"
    assert fit("abcdef", 4) == "abc…"
    cut = fit("電車が遅れてつらい", 7)
    assert display_width(cut) <= 7
    assert cut.endswith("…")


def test_percentile() -> None:
    assert percentile([], 50) is None
    assert percentile([5.0], 99) == 5.0
    assert percentile([float(i) for i in range(1, 101)], 50) == pytest.approx(50.5)


def test_progress_line_is_plain() -> None:
    line = render_progress(snapshot())
    assert line.startswith("[01:15] stored 1000")
    assert "positive 50%" in line
    assert "\x1b" not in line


def test_summary_reports_source_counters_failures_and_latency() -> None:
    snap = snapshot(
        processing_failed=2,
        failed_by_code={"Lambda.ProcessingFailed": 2},
        top_entities=[("Google", 11), ("Madrid", 9)],
        top_topics=[("Music", 120)],
    )
    summary = Summary(
        snap=snap,
        stop_reason="Ctrl-C",
        source_desc="replay sample.jsonl (full speed)",
        db_path="out/tweets.db",
        rows_in_db=1000,
        failed_dir="out/failed",
        failed_files=1,
        put_calls=4,
        invocations=3,
        source_counts={"read": 1010, "malformed": 3, "duplicates": 1, "dropped": {"invalid_json": 2, "not_utf8": 1}},
    )
    text = render_summary(summary)
    assert "Demo finished in 75.4 s (Ctrl-C)." in text
    assert "1010 message(s) read, 3 malformed skipped (invalid_json 2, not_utf8 1), 1 duplicate(s) skipped" in text
    assert "1,000 documents → out/tweets.db" in text
    assert "2 records (Lambda.ProcessingFailed 2) → out/failed (1 file(s))" in text
    assert "p50 250 ms" in text
    assert "positive 500 (50.0%)" in text
    assert "Google 11, Madrid 9" in text and "Music 120" in text
    assert "\x1b" not in text


def test_live_view_redraws_in_place_and_restores_the_cursor() -> None:
    stream = io.StringIO()
    view = LiveView(stream, width=90, height=40)
    view.draw(snapshot())
    first = stream.getvalue()
    assert first.startswith("\x1b[?25l\x1b[2J\x1b[H")
    view.draw(snapshot(stored=1001))
    second = stream.getvalue()[len(first) :]
    assert second.startswith("\x1b[H")
    assert "\x1b[2J" not in second  # no full clear: no flicker
    assert "stored 1,001" in view.last_frame
    view.close()
    assert stream.getvalue().endswith("\x1b[?25h")


@pytest.mark.parametrize("height", [12, 20, 30])
def test_frame_never_exceeds_the_terminal_height(height: int) -> None:
    snap = snapshot(latest=[LatestTweet("POSITIVE", "en", f"user{i}", "hello") for i in range(12)])
    frame = render_frame(snap, width=100, color=False, height=height)
    assert len(frame.split("\n")) <= max(height - 1, 16)  # 16: the fixed part, kept even on tiny terminals
    assert "@user11" in frame or height < 18  # newest first when there is room
