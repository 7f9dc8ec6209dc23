"""The shape of one per-item result, as stored and as returned by the API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from reviewpulse.analysis.base import Sentiment


class ItemError(BaseModel):
    code: str
    detail: str


class ItemResult(BaseModel):
    row: int  # 1-based position in the input; results are ordered by it
    id: str
    label: str | None = None
    score: float | None = None
    confidence: float | None = None
    engine: str | None = None
    error: ItemError | None = None

    @classmethod
    def analysed(cls, item: dict[str, Any], sentiment: Sentiment, engine: str) -> ItemResult:
        return cls(
            row=item["row"],
            id=item["id"],
            label=sentiment.label.value,
            score=sentiment.score,
            confidence=sentiment.confidence,
            engine=engine,
        )

    @classmethod
    def failed(cls, item: dict[str, Any], code: str, detail: str) -> ItemResult:
        return cls(row=item["row"], id=item["id"], error=ItemError(code=code, detail=detail))

    def to_json(self) -> str:
        return self.model_dump_json(exclude_none=True)
