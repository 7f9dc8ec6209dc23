"""The self-contained HTML report of a ready task.

No scripts, fonts, images or style sheets from anywhere: the charts are inline SVG written here
(a few bar and line shapes do not warrant a charting library, and an inlined one would be most of
the page's weight), and a Content-Security-Policy of default-src 'none' makes the browser refuse
any request the page might still make. Every chart is followed by a table with the same numbers.
Every value that comes from the input or the results (segment values, theme phrases, quotes,
ids, file names, the summary) is HTML-escaped.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from html import escape

from reviewpulse.results.conversations import ConversationSummary
from reviewpulse.results.evaluation import Evaluation
from reviewpulse.results.insights import Comparison, Insights, Stats
from reviewpulse.results.summaries import WRITTEN_BY_LLM, Report, Summary

CHART_SEGMENTS = 15  # bars per segment chart; the table below it lists every reported segment
CHART_CONVERSATIONS = 40
LABEL_COLOURS = {"positive": "#2e7d32", "neutral": "#757575", "mixed": "#f9a825", "negative": "#c62828"}
WIDTH = 640

_STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:60rem;
color:#1b1b1b;line-height:1.45;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2.2rem;border-bottom:1px solid #ddd}
.muted{color:#5f5f5f}.headline{display:flex;flex-wrap:wrap;gap:1rem;margin:1rem 0}
.metric{border:1px solid #ddd;border-radius:6px;padding:.6rem 1rem;min-width:9rem}
.metric .value{font-size:1.5rem;font-weight:600;display:block}
table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem}
th,td{border-bottom:1px solid #e3e3e3;padding:.25rem .6rem;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:.8rem 0}svg text{font-size:11px;fill:#333}
blockquote{margin:.2rem 0 .8rem 1rem;padding-left:.6rem;border-left:3px solid #ccc;color:#333}
details{margin:.3rem 0 1rem}summary{cursor:pointer;color:#444}
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
) -> str:
    """The whole page as one string."""
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
        parts.append(_executive_summary(report) + _comparison_sentence(insights.comparison))
    if insights.comparison is not None:  # what changed leads: it is what a comparison was asked for
        parts.append(_comparison(insights.comparison))
    parts.append(_labels(insights.overall))
    if insights.adjusted is not None and insights.adjusted.overall is not None:
        parts.append(_adjusted(insights))
    if insights.evaluation is not None:
        parts.append(_evaluation(insights.evaluation))
    if insights.time is not None:
        parts.append(_over_time(insights))
    for column in insights.segments:
        parts.append(_segments(column))
    if insights.themes:
        parts.append(_themes(insights))
    if insights.aspects:
        parts.append(_aspects(insights))
    if conversations:
        parts.append(_conversations(conversations, summary))
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
        ("net_sentiment", "Net sentiment", _signed(overall.net_sentiment), overall.net_sentiment),
        ("mean_score", "Mean score", _signed(overall.mean_score), overall.mean_score),
    ]
    cells = "".join(
        f'<div class="metric"><span class="value" data-metric="{key}" data-value="{_raw(raw)}">{text}</span>'
        f"{label}</div>"
        for key, label, text, raw in metrics
    )
    interval = ""
    if overall.net_sentiment_ci95 is not None:
        low, high = overall.net_sentiment_ci95
        interval = f'<p class="muted">Net sentiment 95% interval: {_signed(low)} to {_signed(high)}.</p>'
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
            _num(_percent(share.observed), share.observed),
            _num(_percent(share.adjusted), share.adjusted),
            f"{100 * share.ci95[0]:.1f}% to {100 * share.ci95[1]:.1f}%",
        ]
        for share in adjusted.overall.shares
    ]
    for column, parts in adjusted.segments.items():
        for part in parts:
            for share in part.shares:
                rows.append(
                    [
                        escape(f"{column} = {_value(part.key)}: {share.label}"),
                        _num(_percent(share.observed), share.observed),
                        _num(_percent(share.adjusted), share.adjusted),
                        f"{100 * share.ci95[0]:.1f}% to {100 * share.ci95[1]:.1f}%",
                    ]
                )
    for part in adjusted.time:
        for share in part.shares:
            rows.append(
                [
                    escape(f"from {part.key}: {share.label}"),
                    _num(_percent(share.observed), share.observed),
                    _num(_percent(share.adjusted), share.adjusted),
                    f"{100 * share.ci95[0]:.1f}% to {100 * share.ci95[1]:.1f}%",
                ]
            )
    return (
        "<h2>Label shares adjusted for the engine's measured errors</h2>"
        '<p class="muted">Counted: the share of items the engine gave each label. Adjusted: the share once '
        "the errors measured on your labelled rows are taken out; its interval includes the uncertainty of "
        f"those measured errors. Method: {escape(adjusted.method)}.</p>"
        + _table(
            "adjusted-table",
            ["Label", "Counted share", "Adjusted share", "Adjusted 95% interval"],
            rows,
            caption="Counted and adjusted label shares",
        )
    )


def _evaluation(evaluation: Evaluation) -> str:
    coverage = evaluation.coverage
    facts = [
        f"Against the labels in <code>{escape(evaluation.label_field)}</code> ({escape(evaluation.scale)} scale): "
        f"{coverage.evaluated} of {coverage.rows} rows evaluated; {coverage.unlabelled} unlabelled, "
        f"{coverage.invalid_label} with a label the mapping cannot read, {coverage.analysis_failed} not analysed."
    ]
    metrics = [
        ("accuracy", "Accuracy", _percent(evaluation.accuracy), evaluation.accuracy),
        ("macro_f1", "Macro-F1", _plain(evaluation.macro_f1), evaluation.macro_f1),
        ("ece", "Calibration error (ECE)", _plain(evaluation.ece), evaluation.ece),
    ]
    cells = "".join(
        f'<div class="metric"><span class="value" data-metric="{key}" data-value="{_raw(raw)}">{text}</span>'
        f"{label}</div>"
        for key, label, text, raw in metrics
    )
    labels, matrix = evaluation.confusion.labels, evaluation.confusion.matrix
    confusion_rows = [
        [escape(truth), *[_num(value, value) for value in row]] for truth, row in zip(labels, matrix, strict=True)
    ]
    classes = [
        [
            escape(c.label),
            _num(c.support, c.support),
            _num(c.predicted, c.predicted),
            _num(_percent(c.precision), c.precision),
            _num(_percent(c.recall), c.recall),
            _num(_plain(c.f1), c.f1),
        ]
        for c in evaluation.classes
    ]
    reliability = [
        [
            f"{b.low:.1f}–{b.high:.1f}",
            _num(b.items, b.items),
            _num(_plain(b.mean_confidence), b.mean_confidence),
            _num(_plain(b.accuracy), b.accuracy),
        ]
        for b in evaluation.reliability
    ]
    values = ", ".join(
        f"{escape(v.value)} → {escape(v.read_as or 'invalid-label')} ({v.rows})" for v in evaluation.values
    )
    parts = [
        '<h2 id="evaluation">Evaluation on your labelled rows</h2>',
        f'<p class="muted">{facts[0]} Values met: {values}.</p>',
        f'<div class="headline">{cells}</div>',
        "<h3>Confusion matrix</h3>",
        f"<figure>{_confusion_chart(labels, matrix)}</figure>",
        _table(
            "confusion-table",
            ["Your label ↓ / engine's →", *labels],
            confusion_rows,
            caption="Confusion matrix: rows are your labels, columns the engine's",
        ),
        _table(
            "classes-table",
            ["Label", "Your rows", "Engine's", "Precision", "Recall", "F1"],
            classes,
            caption="Per-class precision and recall",
        ),
        "<h3>Reliability</h3>",
        f"<figure>{_reliability_chart(evaluation)}</figure>",
        _table(
            "reliability-table",
            ["Confidence", "Items", "Mean confidence", "Accuracy"],
            reliability,
            caption="Reliability: how often labels of each confidence are right",
        ),
    ]
    if evaluation.llm is not None:
        llm = evaluation.llm
        parts.append(
            f'<p id="evaluation-llm">LLM: {_percent(llm.share_answered_by_llm)} of items answered by the LLM; '
            f"{llm.tokens_per_1000_items:,.0f} tokens and ${llm.cost_per_1000_items_usd:.4f} per 1,000 items.</p>"
        )
    return "".join(parts)


def _confusion_chart(labels: list[str], matrix: list[list[int]]) -> str:
    """A heat map: each row shaded by the share of that label's rows in each cell."""
    cell, left, top = 70, 90, 30
    size = len(labels)
    width, height = left + cell * size + 10, top + cell * size + 10
    shapes = []
    for j, label in enumerate(labels):
        shapes.append(f'<text x="{left + j * cell + 4}" y="{top - 8}">{escape(label)}</text>')
    for i, (truth, row) in enumerate(zip(labels, matrix, strict=True)):
        total = sum(row) or 1
        shapes.append(f'<text x="0" y="{top + i * cell + cell / 2 + 4:.0f}">{escape(truth)}</text>')
        for j, value in enumerate(row):
            colour = LABEL_COLOURS["positive"] if i == j else LABEL_COLOURS["negative"]
            shapes.append(
                f'<rect x="{left + j * cell}" y="{top + i * cell}" width="{cell - 2}" height="{cell - 2}" '
                f'fill="{colour}" fill-opacity="{0.08 + 0.8 * value / total:.2f}">'
                f"<title>{escape(truth)} called {escape(labels[j])}: {value}</title></rect>"
                f'<text x="{left + j * cell + cell / 2 - 8:.0f}" y="{top + i * cell + cell / 2 + 4:.0f}">{value}</text>'
            )
    return (
        f'<svg role="img" aria-labelledby="confusion-title" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title id="confusion-title">Confusion matrix: your labels (rows) against '
        f"the engine's (columns)</title>{''.join(shapes)}</svg>"
    )


def _reliability_chart(evaluation: Evaluation) -> str:
    """Accuracy against mean confidence per bin, beside the diagonal of perfect calibration."""
    side, pad = 240, 30

    def at(value: float) -> float:
        return pad + value * side

    shapes = [
        f'<line x1="{at(0)}" y1="{pad + side}" x2="{at(1)}" y2="{pad}" stroke="#999" stroke-dasharray="4 3"/>',
        f'<line x1="{at(0)}" y1="{pad + side}" x2="{at(1)}" y2="{pad + side}" stroke="#bbb"/>',
        f'<line x1="{at(0)}" y1="{pad}" x2="{at(0)}" y2="{pad + side}" stroke="#bbb"/>',
        f'<text x="{at(0)}" y="{pad + side + 16}">confidence 0</text><text x="{at(1) - 20}" y="{pad + side + 16}">1</text>',
        f'<text x="0" y="{pad - 8}">accuracy</text>',
    ]
    for b in evaluation.reliability:
        if b.items and b.mean_confidence is not None and b.accuracy is not None:
            x, y = at(b.mean_confidence), pad + side - b.accuracy * side
            shapes.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{3 + min(b.items, 400) ** 0.5 / 3:.1f}" fill="#1565c0" '
                f'fill-opacity="0.7"><title>{b.low:.1f}–{b.high:.1f}: {b.items} items, right {b.accuracy:.0%}'
                "</title></circle>"
            )
    size = side + 2 * pad + 10
    return (
        f'<svg role="img" aria-labelledby="reliability-title" width="{size}" height="{size}" '
        f'viewBox="0 0 {size} {size}"><title id="reliability-title">Reliability diagram: accuracy per confidence '
        f"bin; the dashed diagonal is perfect calibration</title>{''.join(shapes)}</svg>"
    )


def _plain(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


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
        f'<svg role="img" aria-labelledby="labels-title" width="{WIDTH}" height="50" viewBox="0 0 {WIDTH} 50">'
        f'<title id="labels-title">Share of each label among analysed items</title>{"".join(bars)}'
        f'<text x="0" y="44">{legend}</text></svg>'
    )
    rows = [
        [escape(label), _num(count, count), _num(_percent(overall.shares.get(label)), overall.shares.get(label))]
        for label, count in overall.counts.items()
    ]
    return f"<h2>Label distribution</h2><figure>{svg}</figure>" + _table(
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
    svg = _line_chart(
        [(b.start.isoformat(), b.net_sentiment, b.net_sentiment_ci95) for b in buckets],
        "Net sentiment over time, with 95% intervals",
        "time-title",
    )
    rows = [
        [
            escape(b.start.isoformat()),
            _num(b.items, b.items),
            _num(_signed(b.net_sentiment), b.net_sentiment),
            _interval(b.net_sentiment_ci95),
            _num(_signed(b.mean_score), b.mean_score),
        ]
        for b in time.buckets
    ]
    return f'<h2>Net sentiment over time</h2><p class="muted">{"; ".join(notes)}.</p><figure>{svg}</figure>' + _table(
        "time-table",
        ["From", "Items", "Net sentiment", "95% interval", "Mean score"],
        rows,
        caption="Net sentiment over time",
    )


def _segments(column) -> str:
    name = escape(column.column)
    anchor = f"segments-{_slug(column.column)}"
    shown = _worst_first([s for s in column.segments[:CHART_SEGMENTS] if s.net_sentiment is not None])
    svg = _interval_bars(
        [(_value(s.value), s.net_sentiment, s.net_sentiment_ci95, s.items) for s in shown],
        f"Net sentiment per {column.column}, largest {len(shown)} segments, worst first, with 95% intervals",
        f"{anchor}-title",
    )
    rows = [
        [
            escape(_value(s.value)),
            _num(s.items, s.items),
            _num(_signed(s.net_sentiment), s.net_sentiment),
            _interval(s.net_sentiment_ci95),
            _num(_percent(s.shares.get("positive")), s.shares.get("positive")),
            _num(_percent(s.shares.get("negative")), s.shares.get("negative")),
            escape(", ".join(f"{t.phrase} ({t.count})" for t in s.themes)),
        ]
        for s in column.segments
    ]
    if column.other is not None:
        o = column.other
        rows.append(
            [
                "<em>all other values</em>",
                _num(o.items, o.items),
                _num(_signed(o.net_sentiment), o.net_sentiment),
                _interval(o.net_sentiment_ci95),
                _num(_percent(o.shares.get("positive")), o.shares.get("positive")),
                _num(_percent(o.shares.get("negative")), o.shares.get("negative")),
                "",
            ]
        )
    headers = ["Value", "Items", "Net sentiment", "95% interval", "Positive", "Negative", "Themes"]
    return (
        f'<h2>By {name}</h2><p class="muted">{column.distinct_values} distinct values.</p>'
        f"<figure>{svg}</figure>"
        + _table(anchor, headers, rows, caption=f"Net sentiment by {column.column}", details=len(rows) > 20)
    )


def _worst_first(segments: list) -> list:
    """The chart's segments, lowest net sentiment first: the ones to act on lead (issue 22)."""
    return sorted(segments, key=lambda s: s.net_sentiment)


def _themes(insights: Insights) -> str:
    blocks = []
    for polarity, heading in (("praise", "Praised"), ("complaint", "Complaints")):
        themes = [t for t in insights.themes if t.polarity == polarity]
        if not themes:
            continue
        items = []
        for t in themes:
            quote = f"<blockquote>{escape(t.example)}</blockquote>" if t.example else ""
            ids = ", ".join(escape(i) for i in t.example_ids)
            items.append(
                f'<li><strong class="theme">{escape(t.phrase)}</strong> — '
                f'<span data-value="{t.count}">{t.count}</span> items (e.g. {ids}){quote}</li>'
            )
        blocks.append(f'<h3>{heading}</h3><ol class="themes-{polarity}">{"".join(items)}</ol>')
    return (
        '<h2>Top themes</h2><p class="muted">Key phrases far more frequent in positive than in negative '
        "items (praise) or the reverse (complaints), found in the text without an LLM.</p>"
        f'<section id="themes">{"".join(blocks)}</section>'
    )


def _aspects(insights: Insights) -> str:
    shown = [a for a in insights.aspects if a.net_sentiment is not None]
    svg = _interval_bars(
        [(a.aspect, a.net_sentiment, a.net_sentiment_ci95, a.mentioned) for a in shown],
        "Net sentiment per named aspect, with 95% intervals",
        "aspects-title",
    )
    rows = [
        [
            escape(a.aspect),
            _num(a.mentioned, a.mentioned),
            _num(_signed(a.net_sentiment), a.net_sentiment),
            _interval(a.net_sentiment_ci95),
        ]
        for a in insights.aspects
    ]
    return f"<h2>Aspects</h2><figure>{svg}</figure>" + _table(
        "aspects-table", ["Aspect", "Mentioned by", "Net sentiment", "95% interval"], rows, caption="Aspects"
    )


def _comparison(comparison: Comparison) -> str:
    nets = [c for c in comparison.changes if c.measure == "net_sentiment"]
    shown = sorted(nets, key=lambda c: -abs(c.change))[:CHART_SEGMENTS]
    extent = _change_extent([c.change for c in shown])
    svg = _interval_bars(
        [(_change_name(c), c.change, None, 0) for c in shown],
        f"Change in net sentiment since the baseline (−{extent:g} to +{extent:g}), largest changes first",
        "comparison-title",
        extent=extent,
    )
    rows = [
        [
            escape(c.kind),
            escape(_change_name(c)),
            escape(c.measure.replace("_", " ")),
            _num(f"{c.baseline:+.2f}" if c.measure == "net_sentiment" else _percent(c.baseline), c.baseline),
            _num(f"{c.current:+.2f}" if c.measure == "net_sentiment" else _percent(c.current), c.current),
            _num(f"{c.change:+.2f}" if c.measure == "net_sentiment" else f"{100 * c.change:+.1f} pts", c.change),
            _num(_p_text(c.p_adjusted), c.p_adjusted),
            f'<td data-significant="{str(c.significant).lower()}">{"yes" if c.significant else ""}</td>',
        ]
        for c in comparison.changes
    ]
    new = ", ".join(escape(t) for t in comparison.new_themes) or "none"
    notes = "".join(f"<li>{escape(n)}</li>" for n in comparison.notes)
    significant = sum(1 for c in comparison.changes if c.significant)
    return (
        f"<h2>Compared with the baseline</h2><p>Baseline task <code>{escape(comparison.baseline_task_id)}</code>: "
        f'<strong id="significant-changes" data-value="{significant}">{significant}</strong> significant changes '
        f'of {len(comparison.changes)} compared. New themes: <span id="new-themes">{new}</span>.</p>'
        f'<p class="muted">{escape(comparison.method)}.</p><figure>{svg}</figure>'
        + _table(
            "comparison-table",
            ["Kind", "What", "Measure", "Baseline", "Now", "Change", "Adjusted p", "Significant"],
            rows,
            caption="Changes since the baseline",
            details=len(rows) > 20,
        )
        + (f'<ul id="comparison-notes">{notes}</ul>' if notes else "")
    )


# -- comparison helpers (issue 22): the axis fitted to the changes, p-values as people read them ---


def _change_extent(changes: list[float]) -> float:
    """The comparison chart's half-width: the largest change rounded up to a quarter (0.25 to 2),
    so that a change of 0.1 is a bar one can see rather than a sliver of a −2 to +2 axis."""
    largest = max((abs(change) for change in changes), default=0.0)
    return min(2.0, max(0.25, math.ceil(largest * 4) / 4))


def _p_text(p_value: float | None) -> str:
    """An adjusted p-value: never "0" (a p-value is only ever below what is shown)."""
    if p_value is None:
        return "–"
    return "<0.001" if p_value < 0.001 else f"{p_value:.3f}"


def _comparison_sentence(comparison: Comparison | None) -> str:
    """The executive summary's line on what changed since the baseline (nothing without one)."""
    if comparison is None:
        return ""
    significant = sorted((c for c in comparison.changes if c.significant), key=lambda c: -abs(c.change))
    if not significant:
        text = f"No significant change since the baseline ({len(comparison.changes)} compared)."
    else:
        named = "; ".join(
            f"{_change_name(c)} {c.measure.replace('_', ' ')} "
            + (f"{c.change:+.2f}" if c.measure == "net_sentiment" else f"{100 * c.change:+.1f} pts")
            for c in significant[:3]
        )
        text = f"{len(significant)} significant changes since the baseline; the largest: {named}."
    return f'<p id="comparison-summary">{escape(text)}</p>'


def _change_name(change) -> str:
    if change.kind == "segment":
        return f"{change.column}: {_value(change.key)}"
    return change.key or change.kind


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
        f'<svg role="img" aria-labelledby="conv-title" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}"><title id="conv-title">Each conversation from its first third '
        f"(left) to its last third (right), score −1 to +1</title>"
        f'<text x="10" y="{pad}">+1</text><text x="10" y="{height - pad}">−1</text>'
        f'<text x="120" y="{height - 6}">start</text><text x="{WIDTH - 150}" y="{height - 6}">end</text>'
        f"{''.join(lines)}</svg>"
    )
    rows = [
        [
            escape(c.conversation_id),
            _num(c.messages, c.messages),
            escape(c.label or ""),
            _num(_signed(c.trajectory.start_score), c.trajectory.start_score),
            _num(_signed(c.trajectory.end_score), c.trajectory.end_score),
            escape(c.trajectory.direction),
        ]
        for c in with_path
    ]
    totals = summary.conversations
    note = ""
    if totals is not None:
        directions = ", ".join(f"{count} {escape(d)}" for d, count in totals.directions.items())
        note = f'<p class="muted">{totals.conversations} conversations: {directions}. First {len(with_path)} shown.</p>'
    return f"<h2>Conversations</h2>{note}<figure>{svg}</figure>" + _table(
        "conversations-table",
        ["Conversation", "Messages", "Label", "Start", "End", "Direction"],
        rows,
        caption="Conversation trajectories",
        details=len(rows) > 20,
    )


# -- charts ---------------------------------------------------------------------------------------


def _interval_bars(
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
        shapes.append(f'<text x="0" y="{y + 13}">{escape(_clip(label))}</text>')
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


def _line_chart(points: list[tuple[str, float, tuple[float, float] | None]], title: str, title_id: str) -> str:
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


def _table(table_id: str, headers: list[str], rows: Iterable[list[str]], *, caption: str, details: bool = False) -> str:
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    body = "".join(
        "<tr>" + "".join(c if c.startswith("<td") else f"<td>{c}</td>" for c in row) + "</tr>" for row in rows
    )
    table = f'<table id="{table_id}"><caption class="muted">{escape(caption)} (table)</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    return f"<details><summary>All rows as a table</summary>{table}</details>" if details else table


def _num(text: object, raw: object) -> str:
    return f'<td class="num" data-value="{_raw(raw)}">{escape(str(text))}</td>'


def _raw(value: object) -> str:
    return "" if value is None else escape(str(value))


def _signed(value: float | None) -> str:
    return "–" if value is None else f"{value:+.2f}"


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _interval(interval: tuple[float, float] | None) -> str:
    return "–" if interval is None else f"{interval[0]:+.2f} to {interval[1]:+.2f}"


def _value(value: str | None) -> str:
    return "(blank)" if value is None else value


def _clip(text: str, limit: int = 28) -> str:
    # Chart labels only: the table below the chart gives each value in full.
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower())[:40] or "column"
