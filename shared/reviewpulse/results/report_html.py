"""The self-contained HTML report of a ready task.

No scripts, fonts, images or style sheets from anywhere: the charts are inline SVG written here
(a few bar and line shapes do not warrant a charting library, and an inlined one would be most of
the page's weight), and a Content-Security-Policy of default-src 'none' makes the browser refuse
any request the page might still make. Every chart is followed by a table with the same numbers.
Every value that comes from the input or the results (segment values, theme phrases, quotes,
ids, file names, the summary) is HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from reviewpulse.results import report_comparison, report_evaluation, report_themes, report_trends
from reviewpulse.results import report_parts as html_parts
from reviewpulse.results.conversations import ConversationSummary
from reviewpulse.results.example_texts import ReportItems
from reviewpulse.results.insights import Insights, Stats
from reviewpulse.results.report_items import category_count, examples_section, item_links
from reviewpulse.results.report_parts import CHART_SEGMENTS, LABEL_COLOURS, WIDTH
from reviewpulse.results.summaries import WRITTEN_BY_LLM, Report, Summary

CHART_CONVERSATIONS = 40
# A time bucket, segment, category or aspect of fewer analysed items than this is drawn grey and
# marked uncertain: at 10 items one review moves the net sentiment by 0.1 or more.
MIN_CHART_ITEMS = 10

_STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:72rem;
color:#1b1b1b;line-height:1.45;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2.2rem;border-bottom:1px solid #ddd}
.muted{color:#5f5f5f}.headline{display:flex;flex-wrap:wrap;gap:1rem;margin:1rem 0}
.metric{border:1px solid #ddd;border-radius:6px;padding:.6rem 1rem;min-width:9rem}
.metric .value{font-size:1.5rem;font-weight:600;display:block}
table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem}
th,td{border-bottom:1px solid #e3e3e3;padding:.25rem .6rem;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:.8rem 0}figure svg{display:block;max-width:100%;height:auto}figure svg.wide{width:100%}svg text{font-size:13px;fill:#333}
tr.small-bucket td,tr.small td{color:#8a8a8a}.examples li:target{background:#fff3c4}
blockquote{margin:.2rem 0 .8rem 1rem;padding-left:.6rem;border-left:3px solid #ccc;color:#333}
details{margin:.3rem 0 1rem}summary{cursor:pointer;color:#444}
.theme-polarity{color:#5f5f5f;font-size:.85rem}
"""


def render_report(
    *,
    task_id: str,
    filename: str | None,
    created_at: str,
    engine: str,
    summary: Summary,
    insights: Insights,
    report: Report | None,
    conversations: Sequence[ConversationSummary] = (),
    items: ReportItems | None = None,
    redacted: bool = True,
) -> str:
    """The whole page as one string; `items`: the texts behind the example ids (redacted or not)."""
    title = f"ReviewPulse report — {filename}" if filename else f"ReviewPulse report — task {task_id}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="muted">Task <code>{escape(task_id)}</code> · created {escape(created_at)} · '
        f"engine {escape(engine)}</p>",
        _headline(insights.overall),
        _trust(insights),
    ]
    if report is not None:
        parts.append(_executive_summary(report) + report_comparison.comparison_sentence(insights.comparison))
    if insights.comparison is not None:  # what changed leads: it is what a comparison was asked for
        parts.append(report_comparison.comparison_section(insights.comparison))
    parts.append(_labels(insights.overall))
    if insights.adjusted is not None and insights.adjusted.overall is not None:
        parts.append(_adjusted(insights))
    if insights.evaluation is not None:
        parts.append(report_evaluation.evaluation_section(insights.evaluation))
    if insights.time is not None:
        parts.append(_over_time(insights))
    for column in insights.segments:
        parts.append(_segments(column))
    parts.append(report_trends.segment_trends(insights, MIN_CHART_ITEMS))
    if insights.categories:
        parts.append(_categories(insights, items) + report_trends.category_cuts(insights, MIN_CHART_ITEMS))
    if insights.themes:
        parts.append(report_themes.themes_section(insights))
    if insights.aspects:
        parts.append(_aspects(insights))
    if conversations:
        parts.append(_conversations(conversations, summary))
    examples = examples_section(insights, items, redacted=redacted)
    if examples:
        parts.append(examples)
    if insights.warnings:
        items = "".join(f"<li><code>{escape(w.code)}</code>: {escape(w.detail)}</li>" for w in insights.warnings)
        parts.append(f'<h2>Warnings</h2><ul id="warnings">{items}</ul>')
    parts.append(
        '<p class="muted">Net sentiment = share of positive items − share of negative items (−1 to +1); '
        "the ranges are 95% intervals (normal approximation).</p></body></html>"
    )
    return "\n".join(parts)


# -- sections -------------------------------------------------------------------------------------


def _headline(overall: Stats) -> str:
    metrics = [
        ("items", "Items", str(overall.items), overall.items),
        ("analysed", "Analysed", str(overall.analysed), overall.analysed),
        ("failed", "Not analysed", str(overall.items - overall.analysed), overall.items - overall.analysed),
        ("net_sentiment", "Net sentiment", html_parts.signed(overall.net_sentiment), overall.net_sentiment),
        ("mean_score", "Mean score", html_parts.signed(overall.mean_score), overall.mean_score),
    ]
    cells = "".join(
        f'<div class="metric"><span class="value" data-metric="{key}" data-value="{html_parts.data_value(raw)}">{text}</span>'
        f"{label}</div>"
        for key, label, text, raw in metrics
    )
    interval = ""
    if overall.net_sentiment_ci95 is not None:
        low, high = overall.net_sentiment_ci95
        interval = (
            f'<p class="muted">Net sentiment 95% interval: {html_parts.signed(low)} to {html_parts.signed(high)}.</p>'
        )
    return f'<section id="headline"><div class="headline">{cells}</div>{interval}</section>'


def _trust(insights: Insights) -> str:
    """Which engine gave the labels and how well it is known to do: visible, never in small print."""
    headline = insights.headline
    if headline is None:
        return ""
    kind = "measured" if headline.measured else "not-measured"
    return f'<p id="trust" class="metric" data-measured="{str(headline.measured).lower()}" data-kind="{kind}">{escape(headline.statement)}</p>'


def _adjusted(insights: Insights) -> str:
    adjusted = insights.adjusted
    assert adjusted is not None and adjusted.overall is not None
    rows = [
        [
            escape(share.label),
            html_parts.num(html_parts.percent(share.observed), share.observed),
            html_parts.num(html_parts.percent(share.adjusted), share.adjusted),
            f"{100 * share.ci95[0]:.1f}% to {100 * share.ci95[1]:.1f}%",
        ]
        for share in adjusted.overall.shares
    ]
    for column, parts in adjusted.segments.items():
        for part in parts:
            for share in part.shares:
                rows.append(
                    [
                        escape(f"{column} = {html_parts.value(part.key)}: {share.label}"),
                        html_parts.num(html_parts.percent(share.observed), share.observed),
                        html_parts.num(html_parts.percent(share.adjusted), share.adjusted),
                        f"{100 * share.ci95[0]:.1f}% to {100 * share.ci95[1]:.1f}%",
                    ]
                )
    for part in adjusted.time:
        for share in part.shares:
            rows.append(
                [
                    escape(f"from {part.key}: {share.label}"),
                    html_parts.num(html_parts.percent(share.observed), share.observed),
                    html_parts.num(html_parts.percent(share.adjusted), share.adjusted),
                    f"{100 * share.ci95[0]:.1f}% to {100 * share.ci95[1]:.1f}%",
                ]
            )
    return (
        "<h2>Label shares adjusted for the engine's measured errors</h2>"
        '<p class="muted">Counted: the share of items the engine gave each label. Adjusted: the share once '
        "the errors measured on your labelled rows are taken out; its interval includes the uncertainty of "
        f"those measured errors. Method: {escape(adjusted.method)}.</p>"
        + html_parts.table(
            "adjusted-table",
            ["Label", "Counted share", "Adjusted share", "Adjusted 95% interval"],
            rows,
            caption="Counted and adjusted label shares",
        )
    )


def _executive_summary(report: Report) -> str:
    who = "written by the LLM from the counts" if report.written_by == WRITTEN_BY_LLM else "written from a template"
    return (
        f'<h2>Executive summary</h2><p id="executive-summary">{escape(report.executive_summary)}</p>'
        f'<p class="muted">({who})</p>'
    )


def _labels(overall: Stats) -> str:
    n = overall.analysed or 1
    x, bars = 0.0, []
    for label, count in overall.counts.items():
        width = WIDTH * count / n
        if width > 0:
            bars.append(
                f'<rect x="{x:.1f}" y="0" width="{width:.1f}" height="28" fill="{LABEL_COLOURS.get(label, "#999")}">'
                f"<title>{escape(label)}: {count}</title></rect>"
            )
        x += width
    legend = " · ".join(
        f'<tspan fill="{LABEL_COLOURS.get(label, "#999")}">■</tspan> {escape(label)}' for label in overall.counts
    )
    svg = (
        f'<svg class="wide" role="img" aria-labelledby="labels-title" width="{WIDTH}" height="50" viewBox="0 0 {WIDTH} 50">'
        f'<title id="labels-title">Share of each label among analysed items</title>{"".join(bars)}'
        f'<text x="0" y="44">{legend}</text></svg>'
    )
    rows = [
        [
            escape(label),
            html_parts.num(count, count),
            html_parts.num(html_parts.percent(overall.shares.get(label)), overall.shares.get(label)),
        ]
        for label, count in overall.counts.items()
    ]
    return f"<h2>Label distribution</h2><figure>{svg}</figure>" + html_parts.table(
        "labels-table", ["Label", "Items", "Share"], rows, caption="Label distribution"
    )


def _over_time(insights: Insights) -> str:
    time = insights.time
    assert time is not None
    buckets = [b for b in time.buckets if b.net_sentiment is not None]
    notes = [f"By {escape(time.bucket)} of <code>{escape(time.field)}</code>"]
    if time.date_order:
        notes.append(escape(time.date_order))
    if time.unreadable_dates:
        notes.append(f"{time.unreadable_dates} items without a readable date are left out")
    small = sum(1 for b in buckets if b.analysed < MIN_CHART_ITEMS)
    if small:
        notes.append(f"{small} buckets of fewer than {MIN_CHART_ITEMS} analysed items are drawn grey, as uncertain")
    svg = html_parts.time_chart(
        [(b.start, b.net_sentiment, b.net_sentiment_ci95, b.analysed) for b in buckets],
        "Net sentiment over time, with 95% intervals",
        "time-title",
        bucket=time.bucket,
        min_items=MIN_CHART_ITEMS,
    )
    rows = [
        (
            "small-bucket" if b.analysed < MIN_CHART_ITEMS else "",
            [
                escape(b.start.isoformat()),
                html_parts.num(b.items, b.items),
                html_parts.num(html_parts.signed(b.net_sentiment), b.net_sentiment),
                html_parts.interval(b.net_sentiment_ci95),
                html_parts.num(html_parts.signed(b.mean_score), b.mean_score),
            ],
        )
        for b in time.buckets
    ]
    return (
        f'<h2>Net sentiment over time</h2><p class="muted">{"; ".join(notes)}.</p><figure>{svg}</figure>'
        + html_parts.table(
            "time-table",
            ["From", "Items", "Net sentiment", "95% interval", "Mean score"],
            rows,
            caption="Net sentiment over time",
        )
    )


def _segments(column) -> str:
    name = escape(column.column)
    anchor = f"segments-{html_parts.slug(column.column)}"
    shown = _worst_first([s for s in column.segments[:CHART_SEGMENTS] if s.net_sentiment is not None])
    svg = html_parts.interval_bars(
        [(html_parts.value(s.value), s.net_sentiment, s.net_sentiment_ci95, s.analysed) for s in shown],
        f"Net sentiment per {column.column}, largest {len(shown)} segments, worst first, with 95% intervals",
        f"{anchor}-title",
        min_items=MIN_CHART_ITEMS,
    )
    rows = [
        (
            _small(s),
            [
                escape(html_parts.value(s.value)),
                html_parts.num(s.items, s.items),
                html_parts.num(html_parts.signed(s.net_sentiment), s.net_sentiment),
                html_parts.interval(s.net_sentiment_ci95),
                html_parts.num(html_parts.percent(s.shares.get("positive")), s.shares.get("positive")),
                html_parts.num(html_parts.percent(s.shares.get("negative")), s.shares.get("negative")),
                escape(", ".join(f"{t.phrase} ({t.count})" for t in s.themes)),
            ],
        )
        for s in column.segments
    ]
    if column.other is not None:
        o = column.other
        rows.append(
            [
                "<em>all other values</em>",
                html_parts.num(o.items, o.items),
                html_parts.num(html_parts.signed(o.net_sentiment), o.net_sentiment),
                html_parts.interval(o.net_sentiment_ci95),
                html_parts.num(html_parts.percent(o.shares.get("positive")), o.shares.get("positive")),
                html_parts.num(html_parts.percent(o.shares.get("negative")), o.shares.get("negative")),
                "",
            ]
        )
    headers = ["Value", "Items", "Net sentiment", "95% interval", "Positive", "Negative", "Themes"]
    return (
        f'<h2>By {name}</h2><p class="muted">{column.distinct_values} distinct values.</p>'
        f"<figure>{svg}</figure>"
        + html_parts.table(anchor, headers, rows, caption=f"Net sentiment by {column.column}", details=len(rows) > 20)
    )


def _small(stats) -> str:
    """A table row's class: "small" when the chart draws its bar as too few items to read."""
    return "small" if stats.analysed < MIN_CHART_ITEMS else ""


def _worst_first(segments: list) -> list:
    """The chart's segments, lowest net sentiment first: the ones to act on lead (issue 22)."""
    return sorted(segments, key=lambda s: s.net_sentiment)


def _categories(insights: Insights, items: ReportItems | None) -> str:
    shown = _worst_first([c for c in insights.categories if c.net_sentiment is not None])
    svg = html_parts.interval_bars(
        [(c.name, c.net_sentiment, c.net_sentiment_ci95, c.analysed) for c in shown],
        "Net sentiment per category, worst first, with 95% intervals",
        "categories-title",
        min_items=MIN_CHART_ITEMS,
    )
    rows = [
        (
            _small(c),
            [
                escape(c.name),
                category_count(c.name, c.items, items),
                html_parts.num(html_parts.signed(c.net_sentiment), c.net_sentiment),
                html_parts.interval(c.net_sentiment_ci95),
                item_links(c.example_ids),
            ],
        )
        for c in insights.categories
    ]
    return (
        '<h2>Categories</h2><p class="muted">Your categories: the items whose text holds one of each '
        "category's words or phrases (an item may be in several).</p>"
        f"<figure>{svg}</figure>"
        + html_parts.table(
            "categories-table",
            ["Category", "Items", "Net sentiment", "95% interval", "Examples"],
            rows,
            caption="Net sentiment by category",
        )
    )


def _aspects(insights: Insights) -> str:
    shown = [a for a in insights.aspects if a.net_sentiment is not None]
    svg = html_parts.interval_bars(
        [(a.aspect, a.net_sentiment, a.net_sentiment_ci95, a.mentioned) for a in shown],
        "Net sentiment per named aspect, with 95% intervals",
        "aspects-title",
        min_items=MIN_CHART_ITEMS,
    )
    rows = [
        [
            escape(a.aspect),
            html_parts.num(a.mentioned, a.mentioned),
            html_parts.num(html_parts.signed(a.net_sentiment), a.net_sentiment),
            html_parts.interval(a.net_sentiment_ci95),
        ]
        for a in insights.aspects
    ]
    return f"<h2>Aspects</h2><figure>{svg}</figure>" + html_parts.table(
        "aspects-table", ["Aspect", "Mentioned by", "Net sentiment", "95% interval"], rows, caption="Aspects"
    )


def _conversations(conversations: Sequence[ConversationSummary], summary: Summary) -> str:
    with_path = [c for c in conversations if c.trajectory is not None][:CHART_CONVERSATIONS]
    height, pad = 180, 30
    lines = []
    for c in with_path:
        t = c.trajectory
        y1 = pad + (1 - t.start_score) / 2 * (height - 2 * pad)
        y2 = pad + (1 - t.end_score) / 2 * (height - 2 * pad)
        colour = {"improving": "#2e7d32", "worsening": "#c62828"}.get(t.direction, "#757575")
        lines.append(
            f'<line x1="120" y1="{y1:.1f}" x2="{WIDTH - 120}" y2="{y2:.1f}" stroke="{colour}" '
            f'stroke-opacity="0.6"><title>{escape(c.conversation_id)}: {t.start_score:+.2f} → '
            f"{t.end_score:+.2f}</title></line>"
        )
    svg = (
        f'<svg class="wide" role="img" aria-labelledby="conv-title" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}"><title id="conv-title">Each conversation from its first third '
        f"(left) to its last third (right), score −1 to +1</title>"
        f'<text x="10" y="{pad}">+1</text><text x="10" y="{height - pad}">−1</text>'
        f'<text x="120" y="{height - 6}">start</text><text x="{WIDTH - 150}" y="{height - 6}">end</text>'
        f"{''.join(lines)}</svg>"
    )
    rows = [
        [
            escape(c.conversation_id),
            html_parts.num(c.messages, c.messages),
            escape(c.label or ""),
            html_parts.num(html_parts.signed(c.trajectory.start_score), c.trajectory.start_score),
            html_parts.num(html_parts.signed(c.trajectory.end_score), c.trajectory.end_score),
            escape(c.trajectory.direction),
        ]
        for c in with_path
    ]
    totals = summary.conversations
    note = ""
    if totals is not None:
        directions = ", ".join(f"{count} {escape(d)}" for d, count in totals.directions.items())
        note = f'<p class="muted">{totals.conversations} conversations: {directions}. First {len(with_path)} shown.</p>'
    return f"<h2>Conversations</h2>{note}<figure>{svg}</figure>" + html_parts.table(
        "conversations-table",
        ["Conversation", "Messages", "Label", "Start", "End", "Direction"],
        rows,
        caption="Conversation trajectories",
        details=len(rows) > 20,
    )
