"""The shape of one per-item result, as stored and as returned by the API."""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel

from reviewpulse.analysis.sentiment import Analysis


class ItemError(BaseModel):
    code: str
    detail: str


class AspectResult(BaseModel):
    aspect: str
    label: str  # positive | negative | neutral | mixed | not_mentioned
    evidence: str | None = None  # a quote that occurs verbatim in the item's text


class ThemeResult(BaseModel):
    theme: str
    polarity: str  # praise | complaint


class MessageRef(BaseModel):
    """Where a chat message sits: its conversation, its 1-based turn, who said it and when."""

    conversation_id: str
    turn: int
    speaker: str | None = None
    timestamp: str | None = None


class QueuedItem(Protocol):
    """What a result keeps of its queue item (queues.WorkItem)."""

    row: int
    id: str
    conversation: MessageRef | None


class ItemResult(BaseModel):
    row: int  # 1-based position in the input; results are ordered by it
    id: str
    label: str | None = None
    score: float | None = None
    confidence: float | None = None
    engine: str | None = None
    language: str | None = None
    flag: str | None = None  # why the label is only a guess (e.g. language_not_read)
    model: str | None = None  # "model_id@version" of the tenant model that answered (engine "model")
    aspects: list[AspectResult] | None = None
    themes: list[ThemeResult] | None = None
    conversation: MessageRef | None = None
    error: ItemError | None = None
    # options.label_field: the row's own label is one the mapping cannot read (invalid-label);
    # the row is still analysed, and left out of the evaluation.
    label_error: ItemError | None = None

    @classmethod
    def analyzed(cls, item: QueuedItem, analysis: Analysis) -> ItemResult:
        sentiment = analysis.sentiment
        return cls(
            row=item.row,
            id=item.id,
            label=sentiment.label.value,
            score=sentiment.score,
            confidence=sentiment.confidence,
            engine=analysis.engine,
            language=analysis.language or sentiment.language,
            flag=sentiment.flag,
            model=analysis.model,
            aspects=[AspectResult(aspect=a.aspect, label=a.label, evidence=a.evidence) for a in analysis.aspects]
            or None,
            themes=[ThemeResult(theme=t.theme, polarity=t.polarity) for t in analysis.themes] or None,
            conversation=item.conversation,
        )

    @classmethod
    def failed(cls, item: QueuedItem, code: str, detail: str) -> ItemResult:
        return cls(
            row=item.row,
            id=item.id,
            conversation=item.conversation,
            error=ItemError(code=code, detail=detail),
        )

    def to_json(self) -> str:
        return self.model_dump_json(exclude_none=True)
