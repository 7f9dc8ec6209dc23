"""The per-batch summary, accumulated while the results stream past once."""

from __future__ import annotations

from reviewpulse.analysis.sentiment import Label
from reviewpulse.results.model import ItemResult
from reviewpulse.results.summaries import ConversationsSummary, Summary


class SummaryBuilder:
    def __init__(self) -> None:
        self._counts = {label.value: 0 for label in Label}
        self._score_sum = 0.0
        self._analyzed = 0

    def add(self, result: ItemResult) -> None:
        if result.error is not None or result.label is None:
            return
        self._counts[result.label] = self._counts.get(result.label, 0) + 1
        self._score_sum += result.score or 0.0
        self._analyzed += 1

    def build(self, conversations: ConversationsSummary | None = None) -> Summary:
        n = self._analyzed
        return Summary(
            counts=dict(self._counts),
            percentages={label: round(100.0 * count / n, 2) if n else 0.0 for label, count in self._counts.items()},
            mean_score=round(self._score_sum / n, 4) if n else None,
            conversations=conversations,
        )
