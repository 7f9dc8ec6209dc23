"""The HTML report's evaluation section (results.report_html): how the task's labels compare with
the labels the customer already had (results.evaluation), as numbers, a confusion chart and a
reliability chart, each followed by a table with the same numbers."""

from __future__ import annotations

from html import escape

from reviewpulse.results import report_parts as html_parts
from reviewpulse.results.evaluation import Evaluation
from reviewpulse.results.report_parts import LABEL_COLOURS


def evaluation_section(evaluation: Evaluation) -> str:
    coverage = evaluation.coverage
    facts = [
        f"Against the labels in <code>{escape(evaluation.label_field)}</code> ({escape(evaluation.scale)} scale): "
        f"{coverage.evaluated} of {coverage.rows} rows evaluated; {coverage.unlabelled} unlabelled, "
        f"{coverage.invalid_label} with a label the mapping cannot read, {coverage.analysis_failed} not analysed."
    ]
    metrics = [
        ("accuracy", "Accuracy", html_parts.percent(evaluation.accuracy), evaluation.accuracy),
        ("macro_f1", "Macro-F1", html_parts.plain(evaluation.macro_f1), evaluation.macro_f1),
        ("ece", "Calibration error (ECE)", html_parts.plain(evaluation.ece), evaluation.ece),
    ]
    cells = "".join(
        f'<div class="metric"><span class="value" data-metric="{key}" data-value="{html_parts.data_value(raw)}">{text}</span>'
        f"{label}</div>"
        for key, label, text, raw in metrics
    )
    labels, matrix = evaluation.confusion.labels, evaluation.confusion.matrix
    confusion_rows = [
        [escape(truth), *[html_parts.num(value, value) for value in row]]
        for truth, row in zip(labels, matrix, strict=True)
    ]
    classes = [
        [
            escape(c.label),
            html_parts.num(c.support, c.support),
            html_parts.num(c.predicted, c.predicted),
            html_parts.num(html_parts.percent(c.precision), c.precision),
            html_parts.num(html_parts.percent(c.recall), c.recall),
            html_parts.num(html_parts.plain(c.f1), c.f1),
        ]
        for c in evaluation.classes
    ]
    reliability = [
        [
            f"{b.low:.1f}–{b.high:.1f}",
            html_parts.num(b.items, b.items),
            html_parts.num(html_parts.plain(b.mean_confidence), b.mean_confidence),
            html_parts.num(html_parts.plain(b.accuracy), b.accuracy),
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
        html_parts.table(
            "confusion-table",
            ["Your label ↓ / engine's →", *labels],
            confusion_rows,
            caption="Confusion matrix: rows are your labels, columns the engine's",
        ),
        html_parts.table(
            "classes-table",
            ["Label", "Your rows", "Engine's", "Precision", "Recall", "F1"],
            classes,
            caption="Per-class precision and recall",
        ),
        "<h3>Reliability</h3>",
        f"<figure>{_reliability_chart(evaluation)}</figure>",
        html_parts.table(
            "reliability-table",
            ["Confidence", "Items", "Mean confidence", "Accuracy"],
            reliability,
            caption="Reliability: how often labels of each confidence are right",
        ),
    ]
    if evaluation.llm is not None:
        llm = evaluation.llm
        parts.append(
            f'<p id="evaluation-llm">LLM: {html_parts.percent(llm.share_answered_by_llm)} of items answered by the LLM; '
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
