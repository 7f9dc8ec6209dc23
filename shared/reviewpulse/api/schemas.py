"""Request and response bodies: the fields clients rely on."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from reviewpulse.analysis.engine_names import EngineName
from reviewpulse.analysis.engines.base import EngineParts
from reviewpulse.analysis.engines.registry import engine_for
from reviewpulse.analysis.llm.pricing import Prices
from reviewpulse.analysis.models.names import NAME_PATTERN
from reviewpulse.analysis.options import AnalysisOptions, CsvDelimiter, LlmMode
from reviewpulse.api.fields import selection_of
from reviewpulse.results.headline import Headline
from reviewpulse.results.insights import MAX_SEGMENTS
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


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


MAX_ASPECTS = 20
MAX_GROUP_BY = 3
ColumnName = Annotated[str, StringConstraints(min_length=1, max_length=256)]
Aspect = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
MAX_CATEGORIES, MAX_CATEGORY_TERMS = 20, 50
CategoryName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
CategoryTerm = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class OptionsRequest(_Strict):
    engine: EngineName | None = Field(
        default=None,
        description=(
            "The analysis engine; the deployment's default when left out. lexicon: offline and free; "
            "llm: every item by the LLM; auto: the lexicon first, the items it is unsure of by the LLM"
        ),
    )
    min_confidence: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description=(
            "auto only: items whose calibrated confidence (the lexicon's, or the model's with model_id) is "
            "below this go to the LLM; left out, the deployment's AutoMinConfidence, or with model_id the "
            "threshold the model chose from its cross-validated predictions"
        ),
    )
    model_id: str | None = Field(
        default=None,
        pattern=NAME_PATTERN,
        description=(
            "lexicon and auto: one of your models (POST /v1/models) reads the texts instead of the lexicon; "
            "results name engine model and the model's id@version"
        ),
    )
    aspects: list[Aspect] = Field(
        default_factory=list,
        max_length=MAX_ASPECTS,
        description="Aspects to rate in every item, each with a verbatim evidence quote",
        examples=[["battery", "price", "support"]],
    )
    report: bool = Field(default=False, description="Add the batch's main themes and an executive summary")
    group_by: list[ColumnName] = Field(
        default_factory=list,
        max_length=MAX_GROUP_BY,
        description=(
            "Input columns to cut the insights by (product, store, agent; speaker for conversations). "
            f"The {MAX_SEGMENTS} largest values per column are listed, the rest count as other"
        ),
        examples=[["product"]],
    )
    time_field: ColumnName | None = Field(
        default=None,
        description=(
            "A date column for the insights over time: ISO 8601, RFC 2822, MM/DD/YYYY or DD/MM/YYYY (the "
            "order is decided from the whole column), DD.MM.YYYY, or epoch seconds or milliseconds"
        ),
        examples=["created_at"],
    )
    time_bucket: Literal["day", "week", "month"] | None = Field(
        default=None, description="The insights' time step; chosen from the dates' span when left out"
    )
    label_field: ColumnName | None = Field(
        default=None,
        description=(
            "A column of your own labels: the ready task's insights carry an evaluation of the engine against "
            "them (accuracy, macro-F1, per-class precision and recall, confusion matrix, calibration). Read as "
            "positive/negative/neutral/mixed in any case, pos/neg, 1/0 (only 0 and 1: binary), 1/0/-1, or "
            "1-5 stars (1-2 negative, 3 neutral, 4-5 positive); anything else is an invalid-label row"
        ),
        examples=["stars"],
    )
    categories: dict[
        CategoryName, Annotated[list[CategoryTerm], Field(min_length=1, max_length=MAX_CATEGORY_TERMS)]
    ] = Field(
        default_factory=dict,
        max_length=MAX_CATEGORIES,
        description=(
            "Categories you define: a name and the words or phrases that put an item in it (matched as whole "
            "words, case ignored; an item may be in several). The insights count each category's items, their "
            "labels, net sentiment and a few example ids"
        ),
        examples=[{"delays": ["late", "delay", "delayed"], "baggage": ["bag", "luggage", "baggage"]}],
    )
    redact_pii: bool = Field(
        default=True,
        description=(
            "Replace personal data (e-mail, phone, card, IBAN, IP, URLs with tokens, US SSN, UK NINO) with "
            "placeholders before any text reaches an LLM. false only where the deployment allows it "
            "(AllowUnredactedLlm); otherwise 400 redaction-required"
        ),
    )
    quote_only: bool = Field(
        default=False,
        description=(
            "Batches only: count the file's items and estimate the LLM requests, tokens and cost, then "
            "wait as `quoted` (with `quote`) until POST /v1/tasks/{task_id}/start runs it"
        ),
    )
    max_cost_usd: float | None = Field(
        default=None,
        gt=0,
        le=1_000_000,
        description="Most this task's LLM requests may cost (US dollars at the deployment's prices)",
    )
    on_budget_exhausted: Literal["lexicon", "pause"] = Field(
        default="lexicon",
        description=(
            "When the task's max_cost_usd or the tenant's monthly budget runs out: lexicon = the items "
            "left are answered by the lexicon (engine lexicon-budget, and a budget-exhausted warning); "
            "pause = the task waits as `paused` until POST /v1/tasks/{task_id}/resume"
        ),
    )
    compare_to: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description=(
            "The id of an earlier ready task of yours: the insights then carry the changes since it, "
            "with significance tests corrected for many comparisons"
        ),
    )

    mode: LlmMode | None = Field(
        default=None,
        description=(
            "llm and auto only. sync: LLM requests are sent as the items arrive; batch: through the "
            "provider's Batch API, answered within 24 hours at the batch price (half, for OpenAI). "
            "Left out, the deployment decides: batch for files of at least its LlmBatchMinItems items, "
            "when it sets one. batch on an engine that calls no LLM is 400 batch-mode-unavailable"
        ),
    )
    delimiter: CsvDelimiter | None = Field(
        default=None,
        description=(
            "CSV input: the delimiter between columns. Left out, an Excel `sep=` first line names it, "
            "else the header line decides: the most frequent of comma, semicolon, tab and pipe outside "
            "quotes (ties in that order; none: comma)"
        ),
        examples=[";"],
    )
    sheet: ColumnName | None = Field(
        default=None,
        description=(
            "xlsx input: the worksheet to read, by its name (case ignored); left out, the first. A name the "
            "workbook lacks ends the task in error sheet-not-found, naming the sheets it has"
        ),
        examples=["Reviews"],
    )
    csv_bom: bool = Field(
        default=False,
        description="Start the results CSV with a UTF-8 byte-order mark, so that Excel reads accented text right",
    )
    csv_escape_formulas: bool = Field(
        default=True,
        description=(
            "Put an apostrophe before the results CSV's cells that a spreadsheet would run as a formula that "
            "calls something (starting with `=`; or with `+`, `-`, `@` and holding a function call or a `|`). "
            "false: every cell exactly as the input's, for programs that join on the text"
        ),
    )

    @field_validator("aspects")
    @classmethod
    def _distinct(cls, aspects: list[str]) -> list[str]:
        folded = [a.casefold() for a in aspects]
        if len(set(folded)) != len(folded):
            raise ValueError("aspects must be distinct (compared without case)")
        return aspects

    @field_validator("group_by")
    @classmethod
    def _distinct_columns(cls, columns: list[str]) -> list[str]:
        if len(set(columns)) != len(columns):
            raise ValueError("group_by columns must be distinct")
        return columns


class DropOptionsRequest(OptionsRequest):
    """A drop's `<path>.options.json`: the API's `options`, and what a batch request says about its
    file beside them (a drop has no request to say it in)."""

    format: str | None = Field(
        default=None,
        description="csv, json, jsonl, txt, xlsx or conversations; told from the file name when left out",
    )
    text_field: str | None = Field(default=None, min_length=1, max_length=256)
    id_field: str | None = Field(default=None, min_length=1, max_length=256)


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
            "csv, json, jsonl, txt, xlsx (an Excel workbook) or conversations (chat conversations in JSON or "
            "JSON Lines); told from the "
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
