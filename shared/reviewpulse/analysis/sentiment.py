"""What every analyzer promises (Analyzer.analyze: texts in, one Sentiment each), and the shapes of
what an analysis finds: Label, Sentiment, Analysis, Usage. A task's engine (engines/base.py) is
built on an analyzer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import Enum
from typing import Protocol

from pydantic import BaseModel


class Label(str, Enum):
    POSITIVE = "positive"
    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    MIXED = "mixed"


# Why an engine's label is a guess: the text is in a language the lexicon does not read.
LANGUAGE_NOT_READ = "language_not_read"


@dataclass(frozen=True)
class Sentiment:
    label: Label
    score: float  # -1 (most negative) .. 1 (most positive)
    confidence: float  # 0 .. 1: the probability that the label is right
    language: str | None = None  # ISO 639-1, or "und" when too little text to tell
    flag: str | None = None  # why the label is only a guess (LANGUAGE_NOT_READ), else None


# An aspect's evidence is a short quote: longer ones are cut (their start is still verbatim).
EVIDENCE_MAX_CHARS = 300


@dataclass(frozen=True)
class AspectSentiment:
    """How a text feels about one aspect the task named. `evidence` occurs verbatim in the text."""

    aspect: str
    label: str  # a Label value, or "not_mentioned"
    evidence: str | None = None


@dataclass(frozen=True)
class ThemeMention:
    theme: str  # a short lower-case noun phrase, e.g. "battery life"
    polarity: str  # "praise" | "complaint"


@dataclass(frozen=True)
class Analysis:
    """Everything an engine found in one text."""

    sentiment: Sentiment
    engine: str
    language: str | None = None
    aspects: tuple[AspectSentiment, ...] = ()
    themes: tuple[ThemeMention, ...] = ()
    model: str | None = None  # "model_id@version" when a tenant's model answered

    def for_text(self, text: str) -> Analysis:
        """This analysis as the result of `text`: evidence that does not occur in it verbatim is
        dropped. An answer for one text also serves its repeats, which may differ in spacing or
        Unicode form, and a quote must be checked against each text it is shown with."""
        if all(a.evidence is None or a.evidence in text for a in self.aspects):
            return self
        aspects = tuple(
            a if a.evidence is None or a.evidence in text else replace(a, evidence=None) for a in self.aspects
        )
        return replace(self, aspects=aspects)


class Usage(BaseModel):
    """What the LLM cost for a chunk, a report or a whole task (stored on the task as it is)."""

    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_items: int = 0  # items answered without sending their text again (seen before)
    # The part of the three totals above that went through the provider's Batch API (its price).
    batch_requests: int = 0
    batch_input_tokens: int = 0
    batch_output_tokens: int = 0

    def add(self, other: Usage) -> None:
        self.requests += other.requests
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cached_items += other.cached_items
        self.batch_requests += other.batch_requests
        self.batch_input_tokens += other.batch_input_tokens
        self.batch_output_tokens += other.batch_output_tokens


class Analyzer(Protocol):
    engine: str

    def analyze(self, texts: Sequence[str]) -> list[Sentiment]:
        """One Sentiment per text, in order. Raises only for failures worth retrying."""
        ...
