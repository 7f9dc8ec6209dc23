"""The batch report: main themes counted from the per-item results, and an executive summary.

The counts and example ids come from the results themselves, never from a model; the LLM only
words the summary from those numbers. Without an LLM the summary is written from a template.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable

from reviewpulse.analysis.sentiment import Usage
from reviewpulse.results.model import ItemResult
from reviewpulse.results.summaries import WRITTEN_BY_LLM, WRITTEN_BY_TEMPLATE, Report, Summary, ThemeCount

THEMES_PER_POLARITY = 5
EXAMPLE_IDS = 3

# Writes an executive summary from the facts (a JSON text), or None when it cannot.
SummaryWriter = Callable[[str], tuple[str | None, Usage]]


class ThemeCounter:
    """Counts each (theme, polarity) once per item, keeping the first few item ids as examples."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str]] = Counter()
        self._examples: dict[tuple[str, str], list[str]] = {}

    def add(self, result: ItemResult) -> None:
        for key in {(theme.theme, theme.polarity) for theme in result.themes or ()}:
            self._counts[key] += 1
            examples = self._examples.setdefault(key, [])
            if len(examples) < EXAMPLE_IDS:
                examples.append(result.id)

    def top(self) -> list[ThemeCount]:
        ranked = sorted(self._counts.items(), key=lambda entry: (-entry[1], entry[0]))
        themes = []
        for polarity in ("praise", "complaint"):
            chosen = [(key, count) for key, count in ranked if key[1] == polarity][:THEMES_PER_POLARITY]
            themes += [
                ThemeCount(theme=theme, polarity=p, count=count, example_ids=self._examples[(theme, p)])
                for (theme, p), count in chosen
            ]
        return themes


def build_report(summary: Summary, themes: list[ThemeCount], writer: SummaryWriter | None) -> tuple[Report, Usage]:
    usage = Usage()
    if writer is not None:
        text, usage = writer(report_facts(summary, themes))
        if text:
            return Report(themes=themes, executive_summary=text, written_by=WRITTEN_BY_LLM), usage
    return Report(
        themes=themes, executive_summary=template_summary(summary, themes), written_by=WRITTEN_BY_TEMPLATE
    ), usage


def report_facts(summary: Summary, themes: list[ThemeCount]) -> str:
    analysed = sum(summary.counts.values())
    return json.dumps(
        {
            "analysed": analysed,
            "counts": summary.counts,
            "mean_score": summary.mean_score,
            "themes": [{"theme": t.theme, "polarity": t.polarity, "count": t.count} for t in themes],
        },
        ensure_ascii=False,
    )


def template_summary(summary: Summary, themes: list[ThemeCount]) -> str:
    analysed = sum(summary.counts.values())
    if analysed == 0:
        return "No item could be analysed."
    shares = ", ".join(f"{summary.percentages[label]:g}% {label}" for label in summary.counts if summary.counts[label])
    sentences = [f"Of {analysed} analysed items, {shares}."]
    praise = [t for t in themes if t.polarity == "praise"]
    complaints = [t for t in themes if t.polarity == "complaint"]
    if praise:
        sentences.append(f"Most praised: {_listed(praise)}.")
    if complaints:
        sentences.append(f"Most common complaints: {_listed(complaints)}.")
    return " ".join(sentences)


def _listed(themes: list[ThemeCount]) -> str:
    return ", ".join(f"{t.theme} ({t.count})" for t in themes[:3])
