"""The HTML report's parts (results.report_html): inline SVG charts (a few bar and line shapes, see
report_html on why no charting library) and table cells. Every value from the input or the
results is HTML-escaped here."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from html import escape

LABEL_COLOURS = {"positive": "#2e7d32", "neutral": "#757575", "mixed": "#f9a825", "negative": "#c62828"}
SMALL_COLOUR = "#9e9e9e"  # a bar or point of too few items to read
WIDTH = 960  # the charts' drawing units; the style sheet scales them to the page's width
TICK_SPACING = 96  # drawing units between two date ticks: a "28 Sep 2026" label fits with room
CHART_SEGMENTS = 15  # bars per segment chart; the table below it lists every reported segment


def interval_bars(
    rows: list[tuple[str, float, tuple[float, float] | None, int]],
    title: str,
    title_id: str,
    extent: float = 1.0,
    min_items: int = 0,
) -> str:
    """Horizontal bars from a zero line (−extent to +extent), each with its interval as a whisker.
    A bar of fewer than min_items items is grey and carries class "small": too few to read."""
    row_height, label_width = 22, 190
    height = max(1, len(rows)) * row_height + 30
    scale = (WIDTH - label_width - 30) / 2 / extent
    zero = label_width + scale
    shapes = [f'<line x1="{zero:.1f}" y1="0" x2="{zero:.1f}" y2="{height - 24}" stroke="#999"/>']
    for index, (label, value, interval, items) in enumerate(rows):
        y = index * row_height + 4
        x = zero + min(value, 0) * scale
        small = items < min_items
        colour = SMALL_COLOUR if small else LABEL_COLOURS["positive"] if value >= 0 else LABEL_COLOURS["negative"]
        marked = ' class="small"' if small else ""
        note = f", fewer than {min_items}: uncertain" if small else ""
        shapes.append(f'<text x="0" y="{y + 13}">{escape(clip(label))}</text>')
        shapes.append(
            f'<rect{marked} x="{x:.1f}" y="{y}" width="{abs(value) * scale:.1f}" height="14" fill="{colour}" '
            f'fill-opacity="0.75"><title>{escape(label)}: {value:+.2f} ({items} items{note})</title></rect>'
        )
        if interval is not None:
            low, high = (zero + bound * scale for bound in interval)
            shapes.append(
                f'<line x1="{low:.1f}" y1="{y + 7}" x2="{high:.1f}" y2="{y + 7}" stroke="#222" stroke-width="1.5"/>'
            )
    shapes.append(f'<text x="{label_width}" y="{height - 8}">{-extent:g}</text>')
    shapes.append(f'<text x="{zero - 4:.1f}" y="{height - 8}">0</text>')
    shapes.append(f'<text x="{WIDTH - 30}" y="{height - 8}">+{extent:g}</text>')
    return _svg(title_id, title, height, "".join(shapes))


def time_chart(
    points: list[tuple[date, float, tuple[float, float] | None, int]],
    title: str,
    title_id: str,
    *,
    bucket: str,
    min_items: int,
) -> str:
    """Net sentiment per bucket (start, value, interval, analysed items) on a date axis, −1 at the
    bottom, +1 at the top. Buckets sit where their dates fall; ticks name dates of the buckets,
    spaced so that no two labels overlap. A bucket of fewer than min_items analysed items is a
    hollow grey point (class "small-bucket") joined by a dashed grey line and left out of the
    interval band: it is drawn as uncertain, not as a swing of the trend."""
    height, left, right, top, bottom = 240, 44, 50, 24, 40
    inner = WIDTH - left - right
    first = points[0][0] if points else None
    span = (points[-1][0] - first).days if points else 0

    def x(day: date) -> float:
        return left + (inner * (day - first).days / span if span else inner / 2)

    def y(value: float) -> float:
        return top + (1 - value) / 2 * (height - top - bottom)

    shapes = [
        f'<line x1="{left}" y1="{y(0):.1f}" x2="{WIDTH - right}" y2="{y(0):.1f}" stroke="#bbb"/>',
        f'<text x="4" y="{y(1) + 4:.1f}">+1</text><text x="8" y="{y(0) + 4:.1f}">0</text>'
        f'<text x="4" y="{y(-1) + 4:.1f}">−1</text>',
    ]
    last_tick = -TICK_SPACING
    for day, *_ in points:  # greedy from the left: every tick is a bucket's date, none crowds another
        at = x(day)
        if at - last_tick >= TICK_SPACING:
            last_tick = at
            shapes.append(
                f'<line x1="{at:.1f}" y1="{top}" x2="{at:.1f}" y2="{height - bottom + 4}" stroke="#eee"/>'
                f'<text class="tick" data-date="{day.isoformat()}" x="{at:.1f}" y="{height - bottom + 18}" '
                f'text-anchor="middle">{escape(tick_label(day, bucket))}</text>'
            )
    small = [p[3] < min_items for p in points]
    run: list[tuple[float, tuple[float, float]]] = []
    for (day, _, interval, _), is_small in [*zip(points, small, strict=True), ((None, 0, None, 0), True)]:
        if not is_small and interval is not None:
            run.append((x(day), interval))
            continue
        if len(run) > 1:  # a band over each run of reliable buckets
            outline = [(a, y(i[1])) for a, i in run] + [(a, y(i[0])) for a, i in reversed(run)]
            shapes.append(
                f'<polygon points="{" ".join(f"{a:.1f},{b:.1f}" for a, b in outline)}" '
                'fill="#90caf9" fill-opacity="0.35"/>'
            )
        elif run:
            a, (low, high) = run[0]
            shapes.append(f'<line x1="{a:.1f}" y1="{y(high):.1f}" x2="{a:.1f}" y2="{y(low):.1f}" stroke="#90caf9"/>')
        run = []
    for index in range(1, len(points)):
        (d1, v1, _, _), (d2, v2, _, _) = points[index - 1], points[index]
        style = (
            'stroke="#9e9e9e" stroke-dasharray="4 3"'
            if small[index - 1] or small[index]
            else 'stroke="#1565c0" stroke-width="2"'
        )
        shapes.append(f'<line x1="{x(d1):.1f}" y1="{y(v1):.1f}" x2="{x(d2):.1f}" y2="{y(v2):.1f}" {style}/>')
    for (day, value, _, items), is_small in zip(points, small, strict=True):
        look = (
            f'class="small-bucket" r="3.5" fill="#fff" stroke="{SMALL_COLOUR}" stroke-width="1.5"'
            if is_small
            else 'class="bucket" r="3.5" fill="#1565c0"'
        )
        note = f", fewer than {min_items}: uncertain" if is_small else ""
        shapes.append(
            f'<circle data-date="{day.isoformat()}" cx="{x(day):.1f}" cy="{y(value):.1f}" {look}>'
            f"<title>{day.isoformat()}: {value:+.2f} ({items} items{note})</title></circle>"
        )
    if any(small):
        shapes.append(
            f'<circle cx="{left + 6}" cy="{height - 8}" r="3.5" fill="#fff" stroke="{SMALL_COLOUR}"/>'
            f'<text x="{left + 14}" y="{height - 4}">fewer than {min_items} analysed items: uncertain</text>'
        )
    return _svg(title_id, title, height, "".join(shapes))


def tick_label(day: date, bucket: str) -> str:
    """A date as an axis names it: "Jan 2026" for months, "5 Jan 2026" otherwise."""
    return f"{day:%b %Y}" if bucket == "month" else f"{day.day} {day:%b %Y}"


def _svg(title_id: str, title: str, height: int, shapes: str) -> str:
    # Drawn at WIDTH units and scaled to the page's width by the style sheet (figure svg.wide).
    return (
        f'<svg class="wide" role="img" aria-labelledby="{title_id}" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}"><title id="{title_id}">{escape(title)}</title>{shapes}</svg>'
    )


# -- cells ----------------------------------------------------------------------------------------


def table(
    table_id: str,
    headers: list[str],
    rows: Iterable[list[str] | tuple[str, list[str]]],
    *,
    caption: str,
    details: bool = False,
) -> str:
    """A table of cells (or of (row class, cells) pairs, for rows marked, e.g., as uncertain)."""
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    body = "".join(_row(row) for row in rows)
    table = f'<table id="{table_id}"><caption class="muted">{escape(caption)} (table)</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    return f"<details><summary>All rows as a table</summary>{table}</details>" if details else table


def _row(row: list[str] | tuple[str, list[str]]) -> str:
    marked, cells = row if isinstance(row, tuple) else ("", row)
    opening = f'<tr class="{marked}">' if marked else "<tr>"
    return opening + "".join(c if c.startswith("<td") else f"<td>{c}</td>" for c in cells) + "</tr>"


def num(text: object, raw: object) -> str:
    return f'<td class="num" data-value="{data_value(raw)}">{escape(str(text))}</td>'


def data_value(value: object) -> str:
    """A raw number as a data-value attribute (what the browser test reads back)."""
    return "" if value is None else escape(str(value))


def signed(value: float | None) -> str:
    return "–" if value is None else f"{value:+.2f}"


def percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def interval(interval: tuple[float, float] | None) -> str:
    return "–" if interval is None else f"{interval[0]:+.2f} to {interval[1]:+.2f}"


def value(value: str | None) -> str:
    return "(blank)" if value is None else value


def clip(text: str, limit: int = 28) -> str:
    # Chart labels only: the table below the chart gives each value in full.
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower())[:40] or "column"


def plain(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"
