"""Bodies of POST /v1/analyze (a module of their own: schemas.py holds the task resources')."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from reviewpulse.analysis.models.names import NAME_PATTERN
from reviewpulse.engine_names import EngineName
from reviewpulse.usecases.analyze_texts import MAX_TEXTS

LabelName = Literal["positive", "negative", "neutral", "mixed"]


class AnalyzeOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    engine: EngineName | None = Field(
        default=None,
        description=(
            "The analysis engine; the deployment's default when left out. llm and auto answer here when they "
            "finish within the API's time limit, else a task follows (202)"
        ),
    )
    min_confidence: float | None = Field(
        default=None, ge=0, le=1, description="auto only: items below this calibrated confidence go to the LLM"
    )
    model_id: str | None = Field(
        default=None,
        pattern=NAME_PATTERN,
        description=(
            "lexicon and auto: a ready model of yours reads the texts instead of the lexicon (auto: only the ones "
            "it is unsure of go to the LLM). Left out: the tenant's default model, if any. 404 model-not-found "
            "for no model of yours, 409 model-not-ready for one still training or failed"
        ),
    )


class AnalyzeTextsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    texts: list[str] = Field(
        min_length=1,
        max_length=MAX_TEXTS,
        description=(
            f"1 to {MAX_TEXTS} texts. A text that is empty or longer than the deployment's maximum (MaxTextChars) "
            "is a per-text error in `errors`; the others are still answered"
        ),
        examples=[["Great battery, fast delivery", "The screen broke in a week"]],
    )
    options: AnalyzeOptions = Field(default_factory=AnalyzeOptions)


class TextSentimentView(BaseModel):
    index: int = Field(description="0-based position of the text in the request")
    label: LabelName
    score: float = Field(description="-1 (most negative) to 1 (most positive)")
    confidence: float = Field(description="The calibrated probability that the label is right")
    probabilities: dict[LabelName, float] = Field(
        description=(
            "The probability of each label, summing to 1: the label's confidence, the rest shared equally by "
            "the other labels the engine gives (the lexicon never gives mixed: 0)"
        )
    )
    language: str | None = Field(default=None, description="ISO 639-1 code; und when the text is too short to tell")
    engine: str = Field(
        description=(
            "The engine that answered: lexicon, model (a tenant's model) or llm; lexicon-budget when the tenant's "
            "monthly budget had no room"
        )
    )
    model: str | None = Field(default=None, description="model_id@version when a tenant's model answered")


class TextErrorView(BaseModel):
    index: int = Field(description="0-based position of the text in the request")
    code: str = Field(description="A row error code (README, error tables): empty-text, text-too-long, ...")
    detail: str


class TokenUsageView(BaseModel):
    requests: int
    input_tokens: int
    output_tokens: int
    cached_items: int


class AnalyzeTextsResponse(BaseModel):
    engine: str
    results: list[TextSentimentView] = Field(description="One per text that could be analysed, in request order")
    errors: list[TextErrorView] = Field(description="One per text that could not, in request order")
    usage: TokenUsageView | None = Field(default=None, description="What the LLM was asked (llm and auto only)")
