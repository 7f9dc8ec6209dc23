"""The HTML report's comparison with a baseline task (results.report_html): the executive
summary's sentence on what changed, and the section with the change chart and its table
(issue 22: the axis fitted to the changes, p-values as people read them)."""

from __future__ import annotations

import math
from html import escape

from reviewpulse.results import report_parts as html_parts
from reviewpulse.results.insights import Comparison
from reviewpulse.results.report_parts import CHART_SEGMENTS


def comparison_section(comparison: Comparison) -> str:
    nets = [c for c in comparison.changes if c.measure == "net_sentiment"]
    shown = sorted(nets, key=lambda c: -abs(c.change))[:CHART_SEGMENTS]
    extent = _change_extent([c.change for c in shown])
    svg = html_parts.interval_bars(
        [(_change_name(c), c.change, None, 0) for c in shown],
        f"Change in net sentiment {_since(comparison)} (−{extent:g} to +{extent:g}), largest changes first",
        "comparison-title",
        extent=extent,
    )
    rows = [
        [
            escape(c.kind),
            escape(_change_name(c)),
            escape(c.measure.replace("_", " ")),
            html_parts.num(
                f"{c.baseline:+.2f}" if c.measure == "net_sentiment" else html_parts.percent(c.baseline), c.baseline
            ),
            html_parts.num(
                f"{c.current:+.2f}" if c.measure == "net_sentiment" else html_parts.percent(c.current), c.current
            ),
            html_parts.num(
                f"{c.change:+.2f}" if c.measure == "net_sentiment" else f"{100 * c.change:+.1f} pts", c.change
            ),
            html_parts.num(_p_text(c.p_adjusted), c.p_adjusted),
            f'<td data-significant="{str(c.significant).lower()}">{"yes" if c.significant else ""}</td>',
        ]
        for c in comparison.changes
    ]
    new = ", ".join(escape(t) for t in comparison.new_themes) or "none"
    notes = "".join(f"<li>{escape(n)}</li>" for n in comparison.notes)
    significant = sum(1 for c in comparison.changes if c.significant)
    periods = comparison.periods
    if periods is None:
        heading = "Compared with the baseline"
        against = f"Baseline task <code>{escape(comparison.baseline_task_id or '')}</code>"
    else:
        heading = "Compared between periods"
        against = (
            f'<span id="periods" data-at="{periods.at.isoformat()}">By <code>{escape(periods.field)}</code>: '
            f"{_period_text(periods.before)} (the baseline) against {_period_text(periods.after)}"
            + (f"; {periods.left_out} items in neither" if periods.left_out else "")
            + "</span>"
        )
    return (
        f"<h2>{heading}</h2><p>{against}: "
        f'<strong id="significant-changes" data-value="{significant}">{significant}</strong> significant changes '
        f'of {len(comparison.changes)} compared. New themes: <span id="new-themes">{new}</span>.</p>'
        f'<p class="muted">{escape(comparison.method)}.</p><figure>{svg}</figure>'
        + html_parts.table(
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


def _period_text(period) -> str:
    first = period.first.isoformat() if period.first else "?"
    last = period.last.isoformat() if period.last else "?"
    return f"{first} to {last} ({period.items} items)"


def _since(comparison: Comparison) -> str:
    periods = comparison.periods
    if periods is None:
        return "since the baseline"
    return f"from the period before {periods.at.isoformat()} to the period from it"


def comparison_sentence(comparison: Comparison | None) -> str:
    """The executive summary's line on what changed since the baseline (nothing without one)."""
    if comparison is None:
        return ""
    significant = sorted((c for c in comparison.changes if c.significant), key=lambda c: -abs(c.change))
    if not significant:
        text = f"No significant change {_since(comparison)} ({len(comparison.changes)} compared)."
    else:
        named = "; ".join(
            f"{_change_name(c)} {c.measure.replace('_', ' ')} "
            + (f"{c.change:+.2f}" if c.measure == "net_sentiment" else f"{100 * c.change:+.1f} pts")
            for c in significant[:3]
        )
        text = f"{len(significant)} significant changes {_since(comparison)}; the largest: {named}."
    return f'<p id="comparison-summary">{escape(text)}</p>'


def _change_name(change) -> str:
    if change.kind == "segment":
        return f"{change.column}: {html_parts.value(change.key)}"
    return change.key or change.kind
