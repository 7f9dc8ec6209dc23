"""The report's trends per segment and categories per segment and over time (issue 22), from the
insights' time.segments and each category's segments and time (results/periods.py)."""

from __future__ import annotations

from html import escape

from reviewpulse.results import report_parts as html_parts
from reviewpulse.results.insights import Insights, Stats


def segment_trends(insights: Insights, min_items: int) -> str:
    """One dated chart per listed segment (the largest few of each column), each with its table."""
    time = insights.time
    if time is None or not time.segments:
        return ""
    blocks = []
    for index, trend in enumerate(time.segments):
        name = f"{trend.column} = {html_parts.value(trend.value)}"
        buckets = [b for b in trend.buckets if b.net_sentiment is not None]
        svg = html_parts.time_chart(
            [(b.start, b.net_sentiment, b.net_sentiment_ci95, b.analysed) for b in buckets],
            f"Net sentiment over time: {name}",
            f"trend-{index}-title",
            bucket=time.bucket,
            min_items=min_items,
        )
        rows = [_row(min_items, [escape(b.start.isoformat())], b) for b in trend.buckets]
        blocks.append(
            f'<h3 class="trend">{escape(name)}</h3><figure>{svg}</figure>'
            + html_parts.table(
                f"trend-{index}",
                ["From", "Items", "Net sentiment", "95% interval"],
                rows,
                caption=f"Net sentiment over time: {name}",
                details=len(rows) > 20,
            )
        )
    return (
        f'<h2>Trend per segment</h2><p class="muted">The largest segments of each column by {escape(time.bucket)} '
        f"of <code>{escape(time.field)}</code>; buckets of fewer than {min_items} analysed items are drawn grey.</p>"
        + "".join(blocks)
    )


def category_cuts(insights: Insights, min_items: int) -> str:
    """Each category per segment (the largest of each column) and per time bucket, as tables."""
    by_segment = [
        _row(min_items, [escape(c.name), escape(f"{s.column} = {html_parts.value(s.value)}")], s)
        for c in insights.categories
        for s in c.segments
    ]
    over_time = [
        _row(min_items, [escape(c.name), escape(b.start.isoformat())], b) for c in insights.categories for b in c.time
    ]
    parts = []
    if by_segment:
        parts.append(
            html_parts.table(
                "categories-by-segment",
                ["Category", "Segment", "Items", "Net sentiment", "95% interval"],
                by_segment,
                caption="Categories per segment",
                details=len(by_segment) > 20,
            )
        )
    if over_time:
        parts.append(
            html_parts.table(
                "categories-over-time",
                ["Category", "From", "Items", "Net sentiment", "95% interval"],
                over_time,
                caption="Categories over time",
                details=len(over_time) > 20,
            )
        )
    if not parts:
        return ""
    return (
        '<h3>Categories per segment and over time</h3><p class="muted">Rows of fewer than '
        f"{min_items} analysed items are grey.</p>" + "".join(parts)
    )


def _row(min_items: int, names: list[str], stats: Stats) -> tuple[str, list[str]]:
    return (
        "small" if stats.analysed < min_items else "",
        [
            *names,
            html_parts.num(stats.items, stats.items),
            html_parts.num(html_parts.signed(stats.net_sentiment), stats.net_sentiment),
            html_parts.interval(stats.net_sentiment_ci95),
        ],
    )
