"""Request and response bodies: the fields clients rely on."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from reviewpulse.analysis.engines.base import EngineParts
from reviewpulse.analysis.engines.registry import engine_for
from reviewpulse.analysis.llm.pricing import Prices

# The options are declared once, in the domain (analysis/options.py); the API takes them as they are.
from reviewpulse.analysis.options import AnalysisOptions, OptionsRequest
from reviewpulse.api.fields import selection_of
from reviewpulse.ingest.formats import format_names
from reviewpulse.results.headline import Headline
from reviewpulse.results.summaries import Report, Summary
from reviewpulse.settings import Settings, get_settings
from reviewpulse.tasks.model import (
    LlmBatchState,
    Progress,
    Quote,
    Task,
    TaskError,
    TaskStatus,
    TaskType,
    TaskWarning,
)
from reviewpulse.usecases.models import taught_model_id


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreateTaskRequest(_Strict):
    text: str = Field(min_length=1, description="The text to analyse")
    id: str | None = Field(default=None, min_length=1, max_length=256, description="Your id for this text")
    options: OptionsRequest = Field(default_factory=OptionsRequest)


class CreateBatchRequest(_Strict):
    filename: str = Field(min_length=1, max_length=1024)
    # No length limit: any string that is not a supported format is 415 unsupported-format.
    format: str | None = Field(
        default=None,
        description=(
            f"{format_names()} (chat conversations in JSON or JSON Lines); told from the "
            "file name when left out, and a json or jsonl file of conversations is recognised as one"
        ),
        examples=["csv"],
    )
    text_field: str | None = Field(default=None, min_length=1, max_length=256)
    id_field: str | None = Field(default=None, min_length=1, max_length=256)
    options: OptionsRequest = Field(default_factory=OptionsRequest)


class ResumeRequest(_Strict):
    max_cost_usd: float | None = Field(
        default=None,
        gt=0,
        le=1_000_000,
        description="A new, higher options.max_cost_usd for a task its own budget paused",
    )


class Links(BaseModel):
    self: str
    results: str
    insights: str
    report: str | None = Field(
        default=None,
        description="The task's self-contained HTML report (presigned, one hour): ready tasks, on GET /v1/tasks/{task_id}",
    )


class UsageView(BaseModel):
    requests: int
    input_tokens: int
    output_tokens: int
    cached_items: int = Field(description="Items answered without sending their text again (seen before)")
    batch_requests: int = Field(default=0, description="Of the requests, those sent through the provider's Batch API")
    batch_input_tokens: int = Field(default=0, description="Of the input tokens, those billed at the batch price")
    batch_output_tokens: int = Field(default=0, description="Of the output tokens, those billed at the batch price")
    estimated_cost_usd: float = Field(
        description="From the deployment's configured prices per million tokens; Batch API tokens at the batch price"
    )


class BudgetView(BaseModel):
    max_cost_usd: float | None = Field(description="options.max_cost_usd; null when the task has no budget of its own")
    spent_usd: float = Field(description="What its LLM requests cost, from the usage the provider reported")
    reserved_usd: float = Field(description="Reserved for LLM requests in flight, on top of spent_usd")


class TaskView(BaseModel):
    task_id: str
    type: TaskType
    status: TaskStatus
    created_at: datetime
    updated_at: datetime
    filename: str | None = None
    format: str | None = None
    progress: Progress
    options: AnalysisOptions
    usage: UsageView | None = Field(default=None, description="Tasks on the llm and auto engines only")
    quote: Quote | None = Field(default=None, description="options.quote_only: the run's estimated LLM use and cost")
    budget: BudgetView | None = Field(default=None, description="Tasks on the llm and auto engines only")
    paused_reason: str | None = Field(default=None, description="Why a `paused` task waits")
    answered_by: dict[str, int] = Field(
        default_factory=dict,
        description="Items answered by each engine: lexicon, llm, lexicon-fallback (cached LLM answers count as llm)",
    )
    notes: list[str] = Field(default_factory=list, description="How the task was run, where a client should know")
    llm_batch: LlmBatchState | None = Field(
        default=None,
        description="Batch API mode: the provider's batches (ids, statuses, request counts), as last collected",
    )
    summary: Summary | None = None
    report: Report | None = Field(default=None, description="When the task asked for options.report")
    error: TaskError | None = None
    warnings: list[TaskWarning] = Field(
        default_factory=list, description="What the task could not do as asked (its results are still delivered)"
    )
    headline: Headline | None = Field(
        default=None,
        description=(
            "A ready task: which engine gave its labels and how well it is known to do on this text (measured "
            "on the batch's labelled rows with options.label_field, else a plain statement that it was not)"
        ),
    )
    teach_model_id: str | None = Field(
        default=None,
        description=(
            "options.teach: the id of the model this task teaches (GET /v1/models/{model_id} says its status); "
            "asked for when the task is ready, unless a teach-failed warning says why not"
        ),
    )
    teach_phase: Literal["sample", "training", "rest"] | None = Field(
        default=None,
        description=(
            "options.teach on auto, taught first: `sample` while the LLM labels the sample, `training` while the "
            "model is fitted (the rest waits), `rest` once the rest is queued through the model; null otherwise"
        ),
    )
    links: Links

    @classmethod
    def of(cls, task: Task, settings: Settings | None = None, report_url: str | None = None) -> TaskView:
        base = f"/v1/tasks/{task.task_id}"
        usage = budget = None
        prices = settings or get_settings()
        if engine_for(task.options, EngineParts(prices)).spends_tokens:
            usage = UsageView(
                **task.usage.model_dump(),
                estimated_cost_usd=round(Prices.of(prices).usage_cost_usd(task.usage), 6),
            )
            budget = BudgetView(
                max_cost_usd=task.options.max_cost_usd,
                spent_usd=task.spend_settled_micros / 1_000_000,
                reserved_usd=max(0, task.spend_committed_micros - task.spend_settled_micros) / 1_000_000,
            )
        return cls(
            task_id=task.task_id,
            type=task.type,
            status=task.status,
            created_at=task.created_at,
            updated_at=task.updated_at,
            filename=task.filename,
            format=task.format,
            progress=task.progress,
            options=task.options,
            usage=usage,
            quote=task.quote,
            budget=budget,
            paused_reason=task.paused_reason,
            answered_by=task.answered_by,
            notes=task.notes + task.reading_notes,
            llm_batch=task.llm_batch,
            summary=task.summary,
            report=task.report,
            error=task.error,
            warnings=task.warnings,
            headline=task.headline,
            teach_model_id=taught_model_id(task.task_id) if task.options.teach is not None else None,
            teach_phase=task.teach_phase,
            links=Links(self=base, results=f"{base}/results", insights=f"{base}/insights", report=report_url),
        )


class UploadView(BaseModel):
    url: str
    fields: dict[str, str]
    expires_at: datetime
    max_bytes: int


class BatchCreated(BaseModel):
    task: TaskView
    upload: UploadView


class TaskPage(BaseModel):
    items: list[TaskView]
    next_cursor: str | None


TaskViewSelection = selection_of(TaskView)


class TaskSelectionPage(BaseModel):
    """A page of tasks asked for with `fields`."""

    items: list[TaskViewSelection]  # type: ignore[valid-type]
    next_cursor: str | None


class ItemErrorView(BaseModel):
    code: str
    detail: str


class AspectView(BaseModel):
    aspect: str
    label: Literal["positive", "negative", "neutral", "mixed", "not_mentioned"]
    evidence: str | None = Field(default=None, description="A quote that occurs verbatim in the item's text")


class ThemeView(BaseModel):
    theme: str
    polarity: Literal["praise", "complaint"]


class MessageView(BaseModel):
    conversation_id: str
    turn: int = Field(
        description="1-based position of the message in its conversation; 0 for an error about the whole conversation"
    )
    speaker: str | None = None
    timestamp: str | None = None


class ResultItem(BaseModel):
    row: int
    id: str
    label: Literal["positive", "negative", "neutral", "mixed"] | None = None
    score: float | None = None
    confidence: float | None = Field(default=None, description="The probability that the label is right")
    engine: str | None = Field(
        default=None,
        description=(
            "The engine that answered: lexicon, llm, model (a tenant model, options.model_id), or "
            "lexicon-fallback when the LLM was unavailable"
        ),
    )
    language: str | None = Field(
        default=None, description="ISO 639-1 code, when the engine detects it; und when the text is too short to tell"
    )
    flag: Literal["language_not_read"] | None = Field(
        default=None,
        description="Why the label is only a guess: language_not_read = the lexicon does not read this language",
    )
    model: str | None = Field(
        default=None, description="The tenant model that answered (engine model): model_id@version"
    )
    aspects: list[AspectView] | None = None
    themes: list[ThemeView] | None = None
    conversation: MessageView | None = None
    error: ItemErrorView | None = None
    label_error: ItemErrorView | None = Field(
        default=None,
        description="options.label_field: invalid-label when the row's own label is one the mapping cannot "
        "read (the row is still analysed, and left out of the evaluation)",
    )


class ResultFiles(BaseModel):
    jsonl: str
    csv: str
    conversations: str | None = Field(
        default=None, description="Per-conversation summaries (JSON Lines), for files of chat conversations"
    )
    expires_at: datetime


class ResultPage(BaseModel):
    items: list[ResultItem]
    next_cursor: str | None
    files: ResultFiles


ResultItemSelection = selection_of(ResultItem)


class ResultSelectionPage(BaseModel):
    """A results page asked for with `fields`."""

    items: list[ResultItemSelection]  # type: ignore[valid-type]
    next_cursor: str | None
    files: ResultFiles


class Health(BaseModel):
    status: Literal["ok"]
    checks: dict[str, Any]
