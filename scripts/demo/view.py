"""The demo's terminal output: a live ANSI view (TTY), plain progress lines (no TTY), and the final summary.

Rendering is pure (a snapshot in, a string out) so tests can render a frame without a terminal. The live view
redraws in place with cursor-home and erase-line sequences; no curses needed.

Failure policy: none of its own. Text from tweets is cleaned (control characters become spaces) and cut to the
terminal's width, wide characters counted as two cells, so no input can break a frame; a failed write to the
terminal is the run's error (it propagates), never retried.
"""

from __future__ import annotations

import re
import shutil
import statistics
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TextIO

from scripts.demo.delivery import SENTIMENTS, Snapshot

RESET = "\x1b[0m"
BOLD = "\x1b[1m"
DIM = "\x1b[2m"
COLORS = {
    "POSITIVE": "\x1b[32m",  # green
    "NEGATIVE": "\x1b[31m",  # red
    "NEUTRAL": "\x1b[37m",  # light grey
    "MIXED": "\x1b[33m",  # yellow
    "SKIPPED": "\x1b[90m",  # dark grey
}
MARKS = {"POSITIVE": "+", "NEGATIVE": "-", "NEUTRAL": "=", "MIXED": "~", "SKIPPED": "·"}
LABELS = {"POSITIVE": "positive", "NEGATIVE": "negative", "NEUTRAL": "neutral", "MIXED": "mixed", "SKIPPED": "no score"}


ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def strip_ansi(text: str) -> str:
    return ANSI_RE.sub("", text)


def char_width(ch: str) -> int:
    if unicodedata.combining(ch) or ch in "\u200d\ufe0f":
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def display_width(text: str) -> int:
    return sum(char_width(c) for c in text)


def clean(text: str) -> str:
    """One line of printable text: control characters and line breaks become spaces."""
    out = []
    for ch in text:
        out.append(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch)
    return " ".join("".join(out).split())


def fit(text: str, width: int) -> str:
    """Cut ``text`` to ``width`` terminal cells (wide CJK and emoji count 2), with an ellipsis when cut."""
    if width <= 0:
        return ""
    if display_width(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        w = char_width(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def pad(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))


def percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return float(values[0])
    return float(statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1])


def fmt_ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f} ms" if value < 10_000 else f"{value / 1000:,.1f} s"


def fmt_elapsed(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes:02d}:{secs:02d}"


class Painter:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, *codes: str) -> str:
        if not self.color or not codes:
            return text
        return "".join(codes) + text + RESET


def _stats_line(snap: Snapshot, width: int, paint: Painter) -> str:
    """Rate and counters, as many as fit the width, in order of importance."""
    failed = snap.processing_failed + snap.store_rejected
    malformed = snap.source.get("malformed")
    parts = [f"{snap.rate_now:7.1f} tweets/s"]
    parts.append(f"stored {snap.stored:,}")
    parts.append(f"failed {failed:,}" if not failed else paint(f"failed {failed:,}", COLORS["NEGATIVE"]))
    if malformed:
        parts.append(paint(f"malformed {malformed:,}", COLORS["MIXED"]))
    parts.append(f"latency p50 {fmt_ms(percentile(snap.recent_latencies_ms or snap.latencies_ms, 50))}")
    parts.append(f"batches {snap.batches:,}")
    stats_line = ""
    for part in parts:  # as many as fit the width, in order of importance
        candidate = f"{stats_line}   {part}" if stats_line else f" {part}"
        if display_width(strip_ansi(candidate)) > width:
            break
        stats_line = candidate
    return stats_line


def render_frame(
    snap: Snapshot,
    *,
    width: int = 100,
    color: bool = True,
    title: str = "tweet sentiment · local demo",
    footer: str = "Ctrl-C stops (everything stored so far is kept)",
    height: int | None = None,
) -> str:
    """One frame of the live view as text (ANSI colours when ``color``); at most ``height`` lines when given
    (the latest-tweets list shrinks first), so redrawing in place never scrolls the terminal."""
    paint = Painter(color)
    width = max(width, 60)
    lines: list[str] = []
    header = f" {fmt_elapsed(snap.elapsed_s)}  {title}"
    lines.append(paint(fit(header, width), BOLD))
    lines.append(paint("─" * width, DIM))
    lines.append(_stats_line(snap, width, paint))
    lines.append("")

    left_w = min(56, width // 2 + 6)
    bar_w = max(10, left_w - 32)
    total = sum(snap.sentiments.values())
    left = [paint(pad(" SENTIMENT", left_w), BOLD)]
    for sentiment in SENTIMENTS:
        count = snap.sentiments.get(sentiment, 0)
        share = count / total if total else 0.0
        filled = round(share * bar_w)
        bar = paint("█" * filled, COLORS[sentiment]) + paint("░" * (bar_w - filled), DIM)
        label = paint(f"{LABELS[sentiment]:<9}", COLORS[sentiment])
        row = f" {label} {bar} {count:>7,} {share:6.1%}"
        left.append(row + " " * max(0, left_w - (1 + 9 + 1 + bar_w + 1 + 7 + 1 + 6)))
    right_w = min(width - left_w - 2, 34)
    right = [paint(" TOP HASHTAGS", BOLD)]
    for tag, count in snap.top_hashtags[: len(SENTIMENTS)]:
        right.append(" " + pad(fit("#" + tag, right_w - 9), right_w - 9) + f"{count:>7,}")
    for i in range(max(len(left), len(right))):
        lines.append((left[i] if i < len(left) else " " * left_w) + "  " + (right[i] if i < len(right) else ""))
    lines.append("")

    lines.append(paint(" LATEST", BOLD))
    tail_lines = 2 + (2 if snap.failed_by_code else 0)  # rule + footer (+ blank + failures)
    room = len(snap.latest) if height is None else max(0, height - 1 - len(lines) - tail_lines)
    for tweet in list(reversed(snap.latest))[:room]:
        who = fit(f"@{tweet.username}", 16)
        prefix = f" {MARKS.get(tweet.sentiment, '?')} {tweet.lang:<3} {pad(who, 16)} "
        text = fit(clean(tweet.text), width - display_width(prefix))
        lines.append(paint(prefix + text, COLORS.get(tweet.sentiment, "")))
    if snap.failed_by_code:
        lines.append("")
        codes = ", ".join(f"{code} {n}" for code, n in sorted(snap.failed_by_code.items()))
        lines.append(paint(fit(f" failures: {codes}", width), COLORS["NEGATIVE"]))
    lines.append(paint("─" * width, DIM))
    lines.append(paint(fit(f" {footer}", width), DIM))
    return "\n".join(lines)


def render_progress(snap: Snapshot) -> str:
    """One plain line for logs and pipes."""
    total = sum(snap.sentiments.values())
    shares = " ".join(
        f"{LABELS[s]} {snap.sentiments.get(s, 0) / total:.0%}" if total else f"{LABELS[s]} -" for s in SENTIMENTS
    )
    failed = snap.processing_failed + snap.store_rejected
    return (
        f"[{fmt_elapsed(snap.elapsed_s)}] stored {snap.stored} ({snap.rate_now:.0f}/s) failed {failed} "
        f"batches {snap.batches} | {shares}"
    )


@dataclass
class Summary:
    """What the run did, printed when it ends (in both modes)."""

    snap: Snapshot
    stop_reason: str
    source_desc: str
    db_path: str
    rows_in_db: int
    failed_dir: str
    failed_files: int
    put_calls: int
    invocations: int
    exit_code: int = 0
    source_counts: Mapping[str, object] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    report_path: str = ""  # the HTML report, when it was written


def render_summary(summary: Summary, *, color: bool = False) -> str:
    paint = Painter(color)
    snap = summary.snap
    elapsed = max(snap.elapsed_s, 1e-9)
    total = sum(snap.sentiments.values())
    lines = [paint(f"Demo finished in {snap.elapsed_s:.1f} s ({summary.stop_reason}).", BOLD)]

    def row(label: str, text: str) -> None:
        lines.append(f"  {label:<13} {text}")

    source = summary.source_desc
    counts = summary.source_counts
    if counts:
        details = [f"{counts.get('read', 0)} message(s) read"]
        malformed = counts.get("malformed", 0)
        dropped = counts.get("dropped")
        reasons = ""
        if isinstance(dropped, Mapping) and dropped:
            reasons = " (" + ", ".join(f"{reason} {n}" for reason, n in sorted(dropped.items())) + ")"
        details.append(f"{malformed} malformed skipped{reasons}")
        details.append(f"{counts.get('duplicates', 0)} duplicate(s) skipped")
        source += " — " + ", ".join(details)
    row("source", source)
    row(
        "delivered",
        f"{snap.stored + snap.processing_failed + snap.store_rejected + snap.dropped:,} records in "
        f"{summary.invocations:,} transform invocation(s) from {summary.put_calls:,} PutRecordBatch call(s)",
    )
    row("stored", f"{snap.stored:,} documents → {summary.db_path} ({summary.rows_in_db:,} rows in table tweets)")
    shares = []
    for sentiment in SENTIMENTS:
        count = snap.sentiments.get(sentiment, 0)
        share = f"{count / total:.1%}" if total else "-"
        shares.append(paint(f"{LABELS[sentiment]} {count:,} ({share})", COLORS[sentiment]))
    row("sentiment", " · ".join(shares))
    failed = snap.processing_failed + snap.store_rejected
    if failed:
        codes = ", ".join(f"{code} {n}" for code, n in sorted(snap.failed_by_code.items()))
        row(
            "failed",
            paint(
                f"{failed:,} records ({codes}) → {summary.failed_dir} ({summary.failed_files} file(s))",
                COLORS["NEGATIVE"],
            ),
        )
    else:
        row("failed", f"0 records ({summary.failed_dir} is empty)")
    if snap.dropped:
        row("dropped", f"{snap.dropped:,} records the transform dropped on purpose")
    p50, p99 = percentile(snap.latencies_ms, 50), percentile(snap.latencies_ms, 99)
    latency = f"latency received_at → stored p50 {fmt_ms(p50)}, p99 {fmt_ms(p99)}"
    row("throughput", f"{snap.stored / elapsed:,.1f} tweets/s stored; {latency}")
    if snap.top_hashtags:
        row("top hashtags", ", ".join(f"#{tag} {n}" for tag, n in snap.top_hashtags[:6]))
    if snap.top_entities:
        row("top entities", ", ".join(f"{name} {n}" for name, n in snap.top_entities[:6]))
    if snap.top_topics:
        row("top topics", ", ".join(f"{name} {n}" for name, n in snap.top_topics[:6]))
    if snap.langs:
        row("languages", ", ".join(f"{lang} {n}" for lang, n in list(snap.langs.items())[:8]))
    report = [("report", f"{summary.report_path} (open it in a browser: the dashboard's panels, offline)")]
    for label, text in [*(report if summary.report_path else []), *(("note", note) for note in summary.notes)]:
        row(label, text)
    query = "SELECT sentiment, count(*) FROM tweets GROUP BY 1"
    lines.append(f'  Query it:     sqlite3 {summary.db_path} "{query}"')
    return "\n".join(lines)


class LiveView:
    """Redraws a frame in place on a terminal, fitted to its current size (resizes are followed)."""

    def __init__(
        self,
        stream: TextIO,
        *,
        width: int | None = None,
        height: int | None = None,
        color: bool = True,
        title: str = "",
        footer: str = "",
    ) -> None:
        self.stream = stream
        self.fixed_size = (width, height)
        self.color = color
        self.title = title or "tweet sentiment · local demo"
        self.footer = footer or "Ctrl-C stops (everything stored so far is kept)"
        self._started = False
        self.last_frame = ""

    def size(self) -> tuple[int, int]:
        columns, lines = shutil.get_terminal_size((100, 30))
        width, height = self.fixed_size
        return min(width or columns, 120), height or lines

    def draw(self, snap: Snapshot, footer: str | None = None) -> None:
        width, height = self.size()
        frame = render_frame(
            snap, width=width, height=height, color=self.color, title=self.title, footer=footer or self.footer
        )
        self.last_frame = frame
        out = [] if self._started else ["\x1b[?25l\x1b[2J"]
        self._started = True
        out.append("\x1b[H")
        out.append("\n".join(line + "\x1b[K" for line in frame.split("\n")))
        out.append("\n\x1b[J")
        self.stream.write("".join(out))
        self.stream.flush()

    def close(self) -> None:
        if self._started:
            self.stream.write("\x1b[?25h")
            self.stream.flush()
