"""The demo's HTML report: the dashboard's panels drawn from the SQLite store, as one self-contained page.

:func:`collect` runs the report's queries (all of them are here, over a read-only connection of their own, in one
read transaction, so every panel counts the same snapshot while the firehose thread writes); :func:`render` turns
the result into HTML with inline SVG and inline CSS (no script, no font, no network: the page opens from
``file://`` anywhere); :class:`ReportWriter` rewrites the file atomically (a temporary file renamed over it) every
:data:`REFRESH_S` seconds while the demo runs, and the page reloads itself at that pace; the last write,
when the run ends, drops the reload.

Panels, as the OpenSearch dashboard has them: the sentiment donut, sentiment over time split by tracked rule,
net sentiment (positive share minus negative share) per rule, languages, top authors by negative count, the
most engaged posts, retweet and reply share, top hashtags, and entities and topics by sentiment. Sentiment
colours are fixed: NEGATIVE red, POSITIVE green, NEUTRAL grey, MIXED amber.

Failure policy: a write that fails (disk full, folder removed) is logged once per run at WARNING and retried at
the next refresh; the report never stops the demo. A database that cannot be read yet (no table before the
first batch) gives an empty report, not an error.
"""

from __future__ import annotations

import contextlib
import html
import logging
import math
import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ingester.storage.files import atomic_write
from scripts.demo.delivery import SENTIMENTS
from scripts.demo.view import LABELS, clean, fit
from scripts.ops.opensearch.dashboards import SENTIMENT_COLOURS

log = logging.getLogger(__name__)

REFRESH_S = 3.0  # how often the page is rewritten while the demo runs, and how often the browser reloads it
TOP = 10  # rows in the top-N panels
MAX_BUCKETS = 40  # time buckets in the over-time charts
RULES_SHOWN = 6  # small multiples in "sentiment over time by rule"
#: The fixed sentiment colours: the dashboards' own (one definition); SKIPPED is their "no sentiment" bucket.
HEX = {**{k: v for k, v in SENTIMENT_COLOURS.items() if k.isupper()}, "SKIPPED": SENTIMENT_COLOURS["no sentiment"]}
RULE_PALETTE = ("#1f77b4", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f", "#ff7f0e")
# The over-time charts' axis spans the bulk of the posts, not one outlier: it runs from the 1st to the 99th
# percentile of created_at, widened to the oldest and newest post when they lie within AXIS_SLACK of that span (at
# least AXIS_SLACK_MIN_S); posts dated further out (a clock years off, an old reply in a replay) are counted instead.
AXIS_TRIM = 0.01
AXIS_SLACK = 1.0
AXIS_SLACK_MIN_S = 3600
SENTIMENT_SQL = "coalesce(sentiment, 'SKIPPED')"
EPOCH_SQL = "CAST(strftime('%s', {}) AS INTEGER)"  # epoch seconds of an ISO timestamp (unixepoch() needs SQLite 3.38)

Bars = list[tuple[str, int]]


@dataclass
class ReportData:
    """What the panels show, read from the store in one go."""

    total: int = 0
    sentiments: dict[str, int] = field(default_factory=dict)
    sources: Bars = field(default_factory=list)  # the documents' own source field, by count
    bucket_s: int = 60
    buckets: list[int] = field(default_factory=list)  # bucket start, epoch seconds, ascending
    off_axis: int = 0  # posts the over-time charts leave out: no usable created_at, or dated far off the axis
    # rule -> bucket start -> sentiment -> count
    by_rule: dict[str, dict[int, dict[str, int]]] = field(default_factory=dict)
    langs: Bars = field(default_factory=list)
    lang_sentiments: list[tuple[str, dict[str, int]]] = field(default_factory=list)  # lang -> sentiment -> count
    negative_authors: Bars = field(default_factory=list)
    engaged: list[tuple[str, str, int, int, int, str]] = field(default_factory=list)  # user, text, ♥, ↻, ↩, sentiment
    kinds: Bars = field(default_factory=list)  # original / retweet / reply / quote
    hashtags: Bars = field(default_factory=list)
    entities: list[tuple[str, dict[str, int]]] = field(default_factory=list)
    topics: list[tuple[str, dict[str, int]]] = field(default_factory=list)


def connect_readonly(db: Path) -> sqlite3.Connection:
    """A read-only connection of the report's own (WAL lets it read while the demo writes)."""
    return sqlite3.connect(f"{Path(db).resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)


def _by_sentiment(conn: sqlite3.Connection, sql: str) -> list[tuple[str, dict[str, int]]]:
    """Rows of (name, sentiment, count) → the TOP names by total, each with its counts per sentiment."""
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for name, sentiment, n in conn.execute(sql):
        counts[str(name)][str(sentiment)] = int(n)
    ranked = sorted(counts.items(), key=lambda item: (-sum(item[1].values()), item[0]))
    return ranked[:TOP]


def _top_counts(conn: sqlite3.Connection, sql: str) -> list[tuple[str, int]]:
    """Rows of (name, count) from ``sql``, whose one ``?`` is its LIMIT: the TOP of them."""
    return [(str(name), int(n)) for name, n in conn.execute(sql, (TOP,))]


def time_axis(conn: sqlite3.Connection) -> tuple[int, int] | None:
    """(first, last) epoch seconds the over-time charts span (see AXIS_TRIM), or None when no post has a usable
    created_at."""
    epoch = EPOCH_SQL.format("created_at")
    (n,) = conn.execute(f"SELECT count({epoch}) FROM tweets").fetchone()  # noqa: S608
    if not n:
        return None

    def nth(offset: int) -> int:
        sql = f"SELECT {epoch} AS e FROM tweets WHERE e IS NOT NULL ORDER BY e LIMIT 1 OFFSET ?"  # noqa: S608
        return int(conn.execute(sql, (offset,)).fetchone()[0])

    trim = math.ceil(n * AXIS_TRIM) if n > 2 else 0
    oldest, newest = nth(0), nth(n - 1)
    low, high = nth(trim), nth(n - 1 - trim)
    slack = max(AXIS_SLACK_MIN_S, (high - low) * AXIS_SLACK)
    return (oldest if low - oldest <= slack else low), (newest if newest - high <= slack else high)


def collect(conn: sqlite3.Connection) -> ReportData:
    """Every panel's numbers (the report's queries, all in this function), from one snapshot of the store."""
    with contextlib.suppress(sqlite3.OperationalError):  # already in a transaction (a caller's): its snapshot serves
        conn.execute("BEGIN")  # one read transaction: the demo's writes between two queries stay invisible
    try:
        return _collect(conn)
    finally:
        if conn.in_transaction:
            conn.rollback()  # a read transaction: nothing to commit


def _collect(conn: sqlite3.Connection) -> ReportData:
    data = ReportData()
    try:
        counts = conn.execute(f"SELECT {SENTIMENT_SQL}, count(*) FROM tweets GROUP BY 1").fetchall()  # noqa: S608
    except sqlite3.OperationalError:  # no table yet: the demo has not stored its first batch
        return data
    data.sentiments = {str(s): int(n) for s, n in counts}
    data.total = sum(data.sentiments.values())
    if not data.total:
        return data
    data.sources = [
        (str(source), int(n))
        for source, n in conn.execute("SELECT coalesce(source, '?'), count(*) FROM tweets GROUP BY 1 ORDER BY 2 DESC")
    ]
    axis = time_axis(conn)
    data.off_axis = data.total
    if axis is not None:
        first, last = axis
        span = max(1, last - first)
        data.bucket_s = max(60, math.ceil(span / MAX_BUCKETS / 60) * 60)
        start = first // data.bucket_s * data.bucket_s
        data.buckets = list(range(start, last + 1, data.bucket_s))
        epoch = EPOCH_SQL.format("created_at")
        (data.off_axis,) = conn.execute(
            f"SELECT count(*) FROM tweets WHERE {epoch} IS NULL OR {epoch} NOT BETWEEN ? AND ?",  # noqa: S608
            (first, last),
        ).fetchone()
        rows = conn.execute(
            f"SELECT r.value, {EPOCH_SQL.format('t.created_at')} / ? * ?, {SENTIMENT_SQL}, count(*) "  # noqa: S608
            "FROM tweets t, json_each(CASE WHEN json_valid(t.rules) THEN t.rules ELSE '[]' END) r "
            f"WHERE {EPOCH_SQL.format('t.created_at')} BETWEEN ? AND ? GROUP BY 1, 2, 3",
            (data.bucket_s, data.bucket_s, first, last),
        )
        by_rule: dict[str, dict[int, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
        for rule, bucket, sentiment, n in rows:
            if bucket is None:  # defensive: the WHERE already keeps only parseable times
                continue
            by_rule[str(rule)][int(bucket)][str(sentiment)] = int(n)
        ranked = sorted(by_rule, key=lambda r: (-sum(sum(b.values()) for b in by_rule[r].values()), r))
        data.by_rule = {rule: dict(by_rule[rule]) for rule in ranked[:RULES_SHOWN]}
    data.langs = _top_counts(
        conn, "SELECT coalesce(lang, '?'), count(*) FROM tweets GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?"
    )
    data.lang_sentiments = _by_sentiment(
        conn,
        f"SELECT coalesce(lang, '?'), {SENTIMENT_SQL}, count(*) FROM tweets GROUP BY 1, 2",  # noqa: S608
    )
    data.negative_authors = _top_counts(
        conn,
        "SELECT coalesce(author_username, author_id, '?'), count(*) FROM tweets WHERE sentiment = 'NEGATIVE' "
        "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?",
    )
    data.engaged = [
        (str(u), str(text), int(likes), int(reposts), int(replies), str(s))
        for u, text, likes, reposts, replies, s in conn.execute(
            f"SELECT coalesce(author_username, '?'), text, coalesce(metrics_like_count, 0), "  # noqa: S608
            f"coalesce(metrics_retweet_count, 0), coalesce(metrics_reply_count, 0), {SENTIMENT_SQL} FROM tweets "
            "ORDER BY coalesce(metrics_like_count, 0) + coalesce(metrics_retweet_count, 0) "
            "+ coalesce(metrics_reply_count, 0) DESC, tweet_id LIMIT ?",
            (TOP,),
        )
    ]
    retweet, reply, quote = (f"coalesce({c}, 0) = 1" for c in ("is_retweet", "is_reply", "is_quote"))
    kinds = conn.execute(  # each post counted once: a retweet, else a reply, else a quote, else an original
        f"SELECT sum({retweet}), sum({reply} AND NOT {retweet}), sum({quote} AND NOT {retweet} AND NOT {reply}), "  # noqa: S608
        f"sum(NOT {retweet} AND NOT {reply} AND NOT {quote}) FROM tweets"
    ).fetchone()
    data.kinds = [(name, int(n or 0)) for name, n in zip(("retweet", "reply", "quote", "original"), kinds, strict=True)]
    data.hashtags = _top_counts(
        conn, "SELECT hashtag, count(*) FROM tweet_hashtags GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?"
    )
    data.entities = _by_sentiment(
        conn,
        f"SELECT e.text, {SENTIMENT_SQL}, count(DISTINCT t.tweet_id) FROM tweet_entities e "  # noqa: S608
        "JOIN tweets t USING (tweet_id) GROUP BY 1, 2",
    )
    data.topics = _by_sentiment(
        conn,
        f"SELECT p.entity, {SENTIMENT_SQL}, count(DISTINCT t.tweet_id) FROM tweet_topics p "  # noqa: S608
        "JOIN tweets t USING (tweet_id) GROUP BY 1, 2",
    )
    return data


# ---- rendering (pure: data in, HTML out) -------------------------------------------------------------------

W, H = 460, 220  # a chart's view box


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _svg(panel: str, body: Sequence[str], height: int = H, width: int = W) -> str:
    return (
        f'<svg data-panel="{panel}" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" xmlns="http://www.w3.org/2000/svg">{"".join(body)}</svg>'
    )


def _empty(panel: str) -> str:
    return _svg(panel, ['<text class="empty" x="10" y="30">no data yet</text>'], height=50)


def donut(sentiments: dict[str, int]) -> str:
    total = sum(sentiments.values())
    if not total:
        return _empty("sentiment-donut")
    cx, cy, r, inner = 110, 110, 90, 52
    body, angle = [], -math.pi / 2
    for s in SENTIMENTS:
        n = sentiments.get(s, 0)
        if not n:
            continue
        sweep = min(n / total, 0.999999) * 2 * math.pi
        a0, a1 = angle, angle + sweep
        large = 1 if sweep > math.pi else 0
        points = (
            f"M{cx + r * math.cos(a0):.2f},{cy + r * math.sin(a0):.2f} "
            f"A{r},{r} 0 {large} 1 {cx + r * math.cos(a1):.2f},{cy + r * math.sin(a1):.2f} "
            f"L{cx + inner * math.cos(a1):.2f},{cy + inner * math.sin(a1):.2f} "
            f"A{inner},{inner} 0 {large} 0 {cx + inner * math.cos(a0):.2f},{cy + inner * math.sin(a0):.2f}Z"
        )
        body.append(
            f'<path class="slice" data-sentiment="{s}" d="{points}" fill="{HEX[s]}">'
            f"<title>{_e(LABELS[s])} {n}</title></path>"
        )
        angle = a1
    body.append(f'<text x="{cx}" y="{cy + 6}" text-anchor="middle" class="big">{total:,}</text>')
    for i, s in enumerate(x for x in SENTIMENTS if sentiments.get(x)):
        n = sentiments[s]
        y = 40 + i * 24
        body.append(f'<rect x="240" y="{y - 11}" width="14" height="14" fill="{HEX[s]}"/>')
        body.append(f'<text x="262" y="{y}">{_e(LABELS[s])} {n:,} ({n / total:.1%})</text>')
    return _svg("sentiment-donut", body)


def bars(panel: str, rows: Bars, *, color: str = "#1f77b4", prefix: str = "") -> str:
    if not rows:
        return _empty(panel)
    top = max(n for _, n in rows) or 1
    height = 22 * len(rows) + 10
    body = []
    for i, (name, n) in enumerate(rows):
        y = 8 + i * 22
        width = max(1.0, 250 * n / top)
        body.append(f'<text x="150" y="{y + 13}" text-anchor="end">{_e(fit(clean(prefix + name), 22))}</text>')
        body.append(f'<rect class="bar" x="156" y="{y}" width="{width:.1f}" height="16" fill="{color}"/>')
        body.append(f'<text x="{160 + width:.1f}" y="{y + 13}">{n:,}</text>')
    return _svg(panel, body, height=height)


def stacked(panel: str, rows: list[tuple[str, dict[str, int]]]) -> str:
    """One horizontal bar per name, a segment per sentiment (fixed colours)."""
    if not rows:
        return _empty(panel)
    top = max(sum(c.values()) for _, c in rows) or 1
    body = []
    for i, (name, counts) in enumerate(rows):
        y = 8 + i * 22
        x = 156.0
        body.append(f'<text x="150" y="{y + 13}" text-anchor="end">{_e(fit(clean(name), 22))}</text>')
        for s in SENTIMENTS:
            n = counts.get(s, 0)
            if n:
                width = 250 * n / top
                body.append(
                    f'<rect class="bar" data-sentiment="{s}" x="{x:.1f}" y="{y}" width="{width:.1f}" '
                    f'height="16" fill="{HEX[s]}"><title>{_e(LABELS[s])} {n}</title></rect>'
                )
                x += width
        body.append(f'<text x="{x + 4:.1f}" y="{y + 13}">{sum(counts.values()):,}</text>')
    return _svg(panel, body, height=22 * len(rows) + 10)


def share_bar(rows: Bars) -> str:
    total = sum(n for _, n in rows)
    if not total:
        return _empty("kinds")
    colors = {"original": "#1f77b4", "retweet": "#9467bd", "reply": "#17becf", "quote": "#bcbd22"}
    body, x = [], 10.0
    for name, n in rows:
        width = 440 * n / total
        if n:
            body.append(
                f'<rect class="bar" x="{x:.1f}" y="10" width="{width:.1f}" height="30" fill="{colors[name]}">'
                f"<title>{name} {n}</title></rect>"
            )
        x += width
    for i, (name, n) in enumerate(rows):
        y = 64 + i * 22
        body.append(f'<rect x="10" y="{y - 11}" width="14" height="14" fill="{colors[name]}"/>')
        body.append(f'<text x="30" y="{y}">{name} {n:,} ({n / total:.1%})</text>')
    return _svg("kinds", body, height=64 + 22 * len(rows))


def _axis_time(epoch: int, *, zone: bool = False) -> str:
    """The bucket's start as the axes label it: UTC (the store's times), the zone named on the last label."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%H:%M UTC" if zone else "%H:%M")


def _polyline(points: Sequence[tuple[float, float]], color: str, attrs: str) -> str:
    coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    return f'<polyline {attrs} points="{coords}" fill="none" stroke="{color}" stroke-width="2"/>'


def _frame(buckets: list[int], box: tuple[int, int, int, int], labels: tuple[str, str]) -> list[str]:
    """Axes of a chart in ``box`` (left, top, width, height), first and last bucket times, y labels."""
    left, top, width, height = box
    bottom = top + height
    return [
        f'<line x1="{left}" y1="{bottom}" x2="{left + width}" y2="{bottom}" stroke="#bbb"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="#bbb"/>',
        f'<text x="{left}" y="{bottom + 14}" class="small">{_axis_time(buckets[0])}</text>',
        f'<text x="{left + width}" y="{bottom + 14}" class="small" text-anchor="end">'
        f"{_axis_time(buckets[-1], zone=True)}</text>",
        f'<text x="{left - 4}" y="{top + 8}" class="small" text-anchor="end">{labels[0]}</text>',
        f'<text x="{left - 4}" y="{bottom}" class="small" text-anchor="end">{labels[1]}</text>',
    ]


def _x(buckets: list[int], i: int, left: int, width: int) -> float:
    return left + (width * i / (len(buckets) - 1) if len(buckets) > 1 else width / 2)


def legend(entries: Sequence[tuple[str, str, str]], y: float, *, left: float = 10, step: float = 150) -> list[str]:
    """A row of (key, label, colour) entries: a colour swatch (a rect, which the stylesheet's ``svg text`` fill
    cannot override) and its label, each in a ``<g class="legend-entry">``."""
    out = []
    for i, (key, label, color) in enumerate(entries):
        x = left + i * step
        out.append(
            f'<g class="legend-entry" data-key="{_e(key)}"><rect class="swatch" x="{x:.0f}" y="{y - 10:.0f}" '
            f'width="12" height="12" fill="{color}"/><text x="{x + 16:.0f}" y="{y:.0f}">{_e(label)}</text></g>'
        )
    return out


def over_time_by_rule(data: ReportData) -> str:
    """Small multiples: per rule, one line per sentiment (tweets per bucket), under a legend of the sentiments."""
    if not data.by_rule or not data.buckets:
        return _empty("sentiment-by-rule")
    cell_w, cell_h, cols, legend_h = 300, 130, 3, 24
    rows_n = math.ceil(len(data.by_rule) / cols)
    drawn = [s for s in SENTIMENTS if any(s in b for series in data.by_rule.values() for b in series.values())]
    body = legend([(s, LABELS[s], HEX[s]) for s in drawn], 14, step=140)
    for k, (rule, series) in enumerate(data.by_rule.items()):
        ox, oy = (k % cols) * cell_w, (k // cols) * cell_h + legend_h
        left, top, width, height = ox + 34, oy + 22, cell_w - 50, cell_h - 50
        peak = max((n for b in series.values() for n in b.values()), default=1) or 1
        body.append(
            f'<g class="rule" data-rule="{_e(rule)}">'
            f'<text x="{left}" y="{oy + 14}" class="title">{_e(fit(clean(rule), 30))}</text>'
        )
        body += _frame(data.buckets, (left, top, width, height), (str(peak), "0"))
        for s in SENTIMENTS:
            if not any(s in b for b in series.values()):
                continue
            points = [
                (_x(data.buckets, i, left, width), top + height - height * series.get(b, {}).get(s, 0) / peak)
                for i, b in enumerate(data.buckets)
            ]
            body.append(_polyline(points, HEX[s], f'class="line" data-sentiment="{s}"'))
        body.append("</g>")
    return _svg("sentiment-by-rule", body, height=rows_n * cell_h + legend_h, width=cols * cell_w)


def net_sentiment(data: ReportData) -> str:
    """Per rule, (positive - negative) / all tweets in each bucket, from -100 % to +100 %."""
    if not data.by_rule or not data.buckets:
        return _empty("net-sentiment")
    left, top, width, height = 44, 12, 400, 180
    body = _frame(data.buckets, (left, top, width, height), ("+100%", "-100%"))
    zero = top + height / 2
    body.append(f'<line x1="{left}" y1="{zero}" x2="{left + width}" y2="{zero}" stroke="#ddd" stroke-dasharray="4"/>')
    entries = []
    for k, (rule, series) in enumerate(data.by_rule.items()):
        color = RULE_PALETTE[k % len(RULE_PALETTE)]
        entries.append((rule, fit(clean(rule), 9), color))
        points = []
        for i, b in enumerate(data.buckets):
            counts = series.get(b)
            if not counts:
                continue
            net = (counts.get("POSITIVE", 0) - counts.get("NEGATIVE", 0)) / sum(counts.values())
            points.append((_x(data.buckets, i, left, width), zero - net * height / 2))
        body.append(_polyline(points, color, f'class="line" data-rule="{_e(rule)}"'))
    body += legend(entries, top + height + 34, left=left, step=70)
    return _svg("net-sentiment", body, height=H + 20)


def engaged_table(rows: list[tuple[str, str, int, int, int, str]]) -> str:
    if not rows:
        return _empty("engaged")
    cells = "".join(
        f'<tr><td><span class="dot" style="background:{HEX.get(s, "#999")}"></span>@{_e(fit(clean(u), 20))}</td>'
        f"<td>{_e(fit(clean(text), 90))}</td><td>{likes:,}</td><td>{reposts:,}</td><td>{replies:,}</td></tr>"
        for u, text, likes, reposts, replies, s in rows
    )
    return (
        '<table data-panel="engaged"><thead><tr><th>author</th><th>post</th><th>likes</th><th>reposts</th>'
        f"<th>replies</th></tr></thead><tbody>{cells}</tbody></table>"
    )


CSS = """
body{font:13px system-ui,sans-serif;margin:16px;background:#fafafa;color:#222}
h1{font-size:18px;margin:0 0 4px}.meta{color:#666;margin-bottom:12px}
.grid{display:flex;flex-wrap:wrap;gap:12px}
.panel{background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px;max-width:100%;overflow:auto}
.panel h2{font-size:14px;margin:0 0 6px}.wide{flex-basis:100%}
svg{max-width:100%;height:auto}
svg text{font:12px system-ui,sans-serif;fill:#333}svg text.small{font-size:10px;fill:#777}
svg text.big{font-size:22px;font-weight:600}svg text.title{font-weight:600}
table{border-collapse:collapse;font-size:12px}td,th{border-bottom:1px solid #eee;padding:3px 6px;text-align:left}
.dot{display:inline-block;width:9px;height:9px;border-radius:50%;margin-right:4px}
"""


def render(
    data: ReportData,
    *,
    refresh_s: float | None,
    generated: datetime,
    source: str = "",
    notes: Sequence[str] = (),
) -> str:
    """The whole page; ``refresh_s`` adds the reload (while the demo runs), None leaves it out (final page).
    ``source`` is what this run reads; the header also names the sources of the documents in the store, which
    include earlier runs' unless the demo ran with --reset. ``notes`` are lines under the header (the deletions:
    seen, applied, lag)."""
    off_axis = f"; {data.off_axis:,} posts dated outside the axis not drawn" if data.off_axis else ""
    panels = [
        ("sentiment-donut", "Sentiment", donut(data.sentiments), ""),
        ("sentiment-by-rule", f"Sentiment over time by tracked rule ({data.bucket_s // 60} min buckets of "
         f"created_at, UTC{off_axis})", over_time_by_rule(data), "wide"),
        ("net-sentiment", "Net sentiment per rule (positive share − negative share)", net_sentiment(data), ""),
        ("languages", "Languages", bars("languages", data.langs), ""),
        ("language-sentiment", "Sentiment by language", stacked("language-sentiment", data.lang_sentiments), ""),
        ("negative-authors", "Top authors by negative posts",
         bars("negative-authors", data.negative_authors, color=HEX["NEGATIVE"], prefix="@"), ""),
        ("kinds", "Retweet and reply share", share_bar(data.kinds), ""),
        ("hashtags", "Top hashtags", bars("hashtags", data.hashtags, prefix="#"), ""),
        ("entities", "Entities by sentiment", stacked("entities", data.entities), ""),
        ("topics", "Topics by sentiment", stacked("topics", data.topics), ""),
        ("engaged", "Most engaged posts (likes + reposts + replies)", engaged_table(data.engaged), "wide"),
    ]  # fmt: skip
    refresh = f'<meta http-equiv="refresh" content="{refresh_s:g}">' if refresh_s else ""
    by_source = f" (source {', '.join(f'{name} {n:,}' for name, n in data.sources)})" if data.sources else ""
    state = f"refreshes every {refresh_s:g} s while the demo runs" if refresh_s else "final (the demo has finished)"
    sections = "".join(
        f'<section class="panel {cls}" id="panel-{pid}"><h2>{_e(title)}</h2>{body}</section>'
        for pid, title, body, cls in panels
    )
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">{refresh}'
        "<title>Tweet sentiment · local demo report</title>"
        f"<style>{CSS}</style></head><body><h1>Tweet sentiment · local demo</h1>"
        f'<div class="meta">{data.total:,} documents{_e(by_source)} · this run reads {_e(source or "?")} · '
        f"generated {generated.strftime('%Y-%m-%d %H:%M:%S')} UTC · {state}</div>"
        + "".join(f'<div class="meta note">{_e(note)}</div>' for note in notes)
        + f'<div class="grid">{sections}</div></body></html>\n'
    )


class ReportWriter:
    """Rewrites ``path`` from the store at ``db`` atomically; :meth:`maybe_write` at most every REFRESH_S."""

    def __init__(self, db: Path, path: Path, *, source: str = "", refresh_s: float = REFRESH_S) -> None:
        self.db = db
        self.path = path
        self.source = source
        self.refresh_s = refresh_s
        #: lines shown under the header (set by the demo: the deletion counts and lag)
        self.notes: list[str] = []
        self._next = 0.0
        self._conn: sqlite3.Connection | None = None
        self._warned = False

    def maybe_write(self, now: float) -> None:
        if now >= self._next:
            self._next = now + self.refresh_s
            self.write(final=False)

    def write(self, *, final: bool) -> bool:
        """Query and rewrite the page; False (logged once) when it could not be written."""
        try:
            if self._conn is None:
                self._conn = connect_readonly(self.db)
            data = collect(self._conn)
            page = render(
                data,
                refresh_s=None if final else self.refresh_s,
                generated=datetime.now(UTC),
                source=self.source,
                notes=self.notes,
            )
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # as readable as the rest of the output
            atomic_write(self.path, page.encode("utf-8"), mode=0o644)
        except (OSError, sqlite3.Error) as exc:
            if not self._warned:
                self._warned = True
                log.warning("could not write the HTML report %s: %s", self.path, exc)
            return False
        return True

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
