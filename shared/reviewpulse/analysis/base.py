"""What every analysis engine promises."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Protocol


class Label(str, Enum):
    POSITIVE = "positive"
    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    MIXED = "mixed"


@dataclass(frozen=True)
class Sentiment:
    label: Label
    score: float  # -1 (most negative) .. 1 (most positive)
    confidence: float  # 0 .. 1


class Analyzer(Protocol):
    engine: str

    def analyze(self, texts: Sequence[str]) -> list[Sentiment]:
        """One Sentiment per text, in order. Raises only for failures worth retrying."""
        ...
