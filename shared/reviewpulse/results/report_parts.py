"""The HTML report's parts (results.report_html): inline SVG charts (a few bar and line shapes, see
report_html on why no charting library) and table cells. Every value from the input or the
results is HTML-escaped here."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

LABEL_COLOURS = {"positive": "#2e7d32", "neutral": "#757575", "mixed": "#f9a825", "negative": "#c62828"}
WIDTH = 640


def interval_bars(
    rows: list[tuple[str, float, tuple[float, float] | None, int]], title: str, title_id: str, extent: float = 1.0
) -> str:
    """Horizontal bars from a zero line (−extent to +extent), each with its interval as a whisker."""
    row_height, label_width = 22, 190
    height = max(1, len(rows)) * row_height + 30
    scale = (WIDTH - label_width - 20) / 2 / extent
    zero = label_width + scale
    shapes = [f'<line x1="{zero:.1f}" y1="0" x2="{zero:.1f}" y2="{height - 24}" stroke="#999"/>']
    for index, (label, value, interval, items) in enumerate(rows):
        y = index * row_height + 4
        x = zero + min(value, 0) * scale
        colour = LABEL_COLOURS["positive"] if value >= 0 else LABEL_COLOURS["negative"]
        shapes.append(f'<text x="0" y="{y + 13}">{escape(clip(label))}</text>')
        shapes.append(
            f'<rect x="{x:.1f}" y="{y}" width="{abs(value) * scale:.1f}" height="14" fill="{colour}" '
            f'fill-opacity="0.75"><title>{escape(label)}: {value:+.2f} ({items} items)</title></rect>'
        )
        if interval is not None:
            low, high = (zero + bound * scale for bound in interval)
            shapes.append(
                f'<line x1="{low:.1f}" y1="{y + 7}" x2="{high:.1f}" y2="{y + 7}" stroke="#222" stroke-width="1.5"/>'
            )
    shapes.append(f'<text x="{label_width}" y="{height - 8}">{-extent:g}</text>')
    shapes.append(f'<text x="{zero - 4:.1f}" y="{height - 8}">0</text>')
    shapes.append(f'<text x="{WIDTH - 30}" y="{height - 8}">+{extent:g}</text>')
    return (
        f'<svg role="img" aria-labelledby="{title_id}" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}"><title id="{title_id}">{escape(title)}</title>{"".join(shapes)}</svg>'
    )


def line_chart(points: list[tuple[str, float, tuple[float, float] | None]], title: str, title_id: str) -> str:
    """Net sentiment per bucket as a line over a band of its intervals, −1 at the bottom, +1 at the top."""
    height, left, pad = 200, 40, 20
    inner = WIDTH - left - pad
    count = len(points)

    def x(index: int) -> float:
        return left + (inner * index / (count - 1) if count > 1 else inner / 2)

    def y(value: float) -> float:
        return pad + (1 - value) / 2 * (height - 2 * pad)

    shapes = [
        f'<line x1="{left}" y1="{y(0):.1f}" x2="{WIDTH - pad}" y2="{y(0):.1f}" stroke="#bbb"/>',
        f'<text x="4" y="{y(1) + 4:.1f}">+1</text><text x="8" y="{y(0) + 4:.1f}">0</text>'
        f'<text x="4" y="{y(-1) + 4:.1f}">−1</text>',
    ]
    band = [(x(i), y(p[2][1])) for i, p in enumerate(points) if p[2]] + [
        (x(i), y(p[2][0])) for i, p in reversed(list(enumerate(points))) if p[2]
    ]
    if len(band) > 2:
        shapes.append(
            f'<polygon points="{" ".join(f"{a:.1f},{b:.1f}" for a, b in band)}" fill="#90caf9" fill-opacity="0.35"/>'
        )
    if points:
        line = " ".join(f"{x(i):.1f},{y(p[1]):.1f}" for i, p in enumerate(points))
        shapes.append(f'<polyline points="{line}" fill="none" stroke="#1565c0" stroke-width="2"/>')
        for i, (label, value, _) in enumerate(points):
            shapes.append(
                f'<circle cx="{x(i):.1f}" cy="{y(value):.1f}" r="3" fill="#1565c0">'
                f"<title>{escape(label)}: {value:+.2f}</title></circle>"
            )
        shapes.append(f'<text x="{left}" y="{height - 2}">{escape(points[0][0])}</text>')
        if count > 1:
            shapes.append(f'<text x="{WIDTH - pad - 70}" y="{height - 2}">{escape(points[-1][0])}</text>')
    return (
        f'<svg role="img" aria-labelledby="{title_id}" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}"><title id="{title_id}">{escape(title)}</title>{"".join(shapes)}</svg>'
    )


# -- cells ----------------------------------------------------------------------------------------


def table(table_id: str, headers: list[str], rows: Iterable[list[str]], *, caption: str, details: bool = False) -> str:
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    body = "".join(
        "<tr>" + "".join(c if c.startswith("<td") else f"<td>{c}</td>" for c in row) + "</tr>" for row in rows
    )
    table = f'<table id="{table_id}"><caption class="muted">{escape(caption)} (table)</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    return f"<details><summary>All rows as a table</summary>{table}</details>" if details else table


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
