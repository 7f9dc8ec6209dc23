"""The one options contract: what a client may ask of a task, declared once, grouped by concern.

- `OptionsRequest` is what a client sends (the API's `options`, a drop's sidecar, the CLI's flags):
  flat keys, each declared in exactly one of the concern groups below, with its constraints and the
  description OpenAPI shows.
- `AnalysisOptions` is what a task keeps and what the workers read: the same fields, resolved
  (`usecases/resolve_options.py:resolve_options`: the engine named, its defaults filled in) and stored on
  the task when it is created, so that a later change of a default cannot alter it.
- `DropOptionsRequest` is a drop's sidecar: the options, and what a batch request says about its
  file beside them.

A new option is declared once, in its group here; the API, the sidecar, the stored task and the
workers all take it from there (tests/unit/test_options.py holds that).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from reviewpulse.analysis.models.names import NAME_PATTERN
from reviewpulse.engine_names import EngineName

TimeBucket = Literal["day", "week", "month"]
# What the items left get when a budget (the task's or the tenant's month) runs out.
BudgetPolicy = Literal["lexicon", "pause"]
# How an llm or auto task's LLM requests are sent: one by one as chunks arrive (sync), or through
# the provider's Batch API (batch: answered within 24 hours at half price).
LlmMode = Literal["sync", "batch"]
# The CSV delimiters a file may use (what spreadsheets write); None: told from the file itself.
CsvDelimiter = Literal[",", ";", "\t", "|"]

MAX_ASPECTS = 20
MAX_GROUP_BY = 3
# The largest values of a group_by column the insights list (results/insights_builder.py); the rest count
# as other. Here, beside the option it bounds (results stands on analysis, not the other way).
MAX_SEGMENTS = 200
ColumnName = Annotated[str, StringConstraints(min_length=1, max_length=256)]
Aspect = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
MAX_CATEGORIES, MAX_CATEGORY_TERMS = 20, 50
CategoryName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
CategoryTerm = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


def uses_batch_api(mode: LlmMode | None, *, items: int, threshold: int | None) -> bool:
    """The Batch API mode rule, the one place it is written: a task's LLM requests go through the
    provider's Batch API when it asked for batch, or when it left the mode to the deployment and its
    input holds at least the deployment's LlmBatchMinItems (`threshold`; None or 0: never by size).
    Whether its engine calls an LLM at all is the engine's to say (`uses_llm_queue`)."""
    return mode == "batch" or (mode is None and bool(threshold) and items >= (threshold or 0))


def mode_waits_on_size(mode: LlmMode | None, threshold: int | None) -> bool:
    """Whether the mode can only be known once the input's items are counted (uses_batch_api)."""
    return mode is None and bool(threshold)


# Bounds of options.teach.sample (analysis/teach.py says why); here as literals, because teach.py
# stands on the models package, which this module must not import for the contract's sake.
MIN_TEACH_SAMPLE, MAX_TEACH_SAMPLE = 200, 10_000


class TeachChoice(BaseModel):
    """options.teach: teach a model of yours from the LLM's answers to a sample of this batch."""

    model_config = ConfigDict(extra="forbid")

    sample: int = Field(
        ge=MIN_TEACH_SAMPLE,
        le=MAX_TEACH_SAMPLE,
        description=(
            "How many items (a seeded random sample, chosen from the row numbers) the LLM answers to teach the "
            "model; a smaller file is taught from every item"
        ),
    )
    set_default: bool = Field(
        default=False, description="Make the taught model your default once it is ready (PUT /v1/models/default)"
    )


class CompareChoice(BaseModel):
    """options.compare: two periods of one file's time_field compared (results/periods.py)."""

    model_config = ConfigDict(extra="forbid")

    at: date | Literal["last-bucket"] = Field(
        description=(
            "A date (YYYY-MM-DD): items dated before it are the earlier period, those dated on or after it the "
            "later one. last-bucket: the last time bucket against the one before it"
        ),
        examples=["2026-03-01", "last-bucket"],
    )


class AnalysisChoices(BaseModel):
    """Analysis: which engine reads the texts, what it rates, and what it may send to an LLM."""

    model_config = ConfigDict(defer_build=True)  # a part of the models below: its schema is built if used alone

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
    # A tenant's model (analysis/models): lexicon and auto read texts with it instead of the lexicon.
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
    teach: TeachChoice | None = Field(
        default=None,
        description=(
            "Batches on auto or llm only (sync mode): the LLM answers a seeded random sample of `sample` items "
            "(on auto even those the lexicon is sure of), and when the task is ready a model of yours is trained "
            "from exactly those answers (the task names it: teach_model_id). Anything else is 400 teach-unavailable"
        ),
    )
    # Personal data is replaced by placeholders before any text reaches an LLM; False only where the
    # deployment allows it (AllowUnredactedLlm), checked when the task is created.
    redact_pii: bool = Field(
        default=True,
        description=(
            "Replace personal data (e-mail, phone, card, IBAN, IP, URLs with tokens, US SSN, UK NINO) with "
            "placeholders before any text reaches an LLM. false only where the deployment allows it "
            "(AllowUnredactedLlm); otherwise 400 redaction-required"
        ),
    )

    @field_validator("aspects")
    @classmethod
    def _distinct(cls, aspects: list[str]) -> list[str]:
        folded = [a.casefold() for a in aspects]
        if len(set(folded)) != len(folded):
            raise ValueError("aspects must be distinct (compared without case)")
        return aspects


class InsightChoices(BaseModel):
    """Insights: how the ready task's insights are cut (segments, time) and what they are held to."""

    model_config = ConfigDict(defer_build=True)  # a part of the models below: its schema is built if used alone

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
    time_bucket: TimeBucket | None = Field(
        default=None, description="The insights' time step; chosen from the dates' span when left out"
    )
    # A column of the customer's own labels (results/evaluation.py says how the column is read).
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
    # Categories the customer defines: a name and the words and phrases that put an item in it
    # (results/categories.py); the insights count each category's items.
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
    # A ready task of the same tenant, checked when the task is created (usecases/resolve_options.py).
    compare_to: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description=(
            "The id of an earlier ready task of yours: the insights then carry the changes since it, "
            "with significance tests corrected for many comparisons"
        ),
    )

    # Periods of one file (needs time_field; not with compare_to): usecases/resolve_options.py checks both.
    compare: CompareChoice | None = Field(
        default=None,
        description=(
            "Compare two periods inside this file by its time_field: the insights then carry the changes from the "
            "earlier period to the later one, tested and corrected as with compare_to. Needs time_field, and not "
            "with compare_to (400 compare-unavailable)"
        ),
        examples=[{"at": "2026-03-01"}],
    )

    @field_validator("group_by")
    @classmethod
    def _distinct_columns(cls, columns: list[str]) -> list[str]:
        if len(set(columns)) != len(columns):
            raise ValueError("group_by columns must be distinct")
        return columns


class SpendingChoices(BaseModel):
    """Spending: what the task's LLM requests may cost, and how they are sent and priced."""

    model_config = ConfigDict(defer_build=True)  # a part of the models below: its schema is built if used alone

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
    on_budget_exhausted: BudgetPolicy = Field(
        default="lexicon",
        description=(
            "When the task's max_cost_usd or the tenant's monthly budget runs out: lexicon = the items "
            "left are answered by the lexicon (engine lexicon-budget, and a budget-exhausted warning); "
            "pause = the task waits as `paused` until POST /v1/tasks/{task_id}/resume"
        ),
    )
    # None: the deployment decides (uses_batch_api above).
    mode: LlmMode | None = Field(
        default=None,
        description=(
            "llm and auto only. sync: LLM requests are sent as the items arrive; batch: through the "
            "provider's Batch API, answered within 24 hours at the batch price (half, for OpenAI). "
            "Left out, the deployment decides: batch for files of at least its LlmBatchMinItems items, "
            "when it sets one. batch on an engine that calls no LLM is 400 batch-mode-unavailable"
        ),
    )

    @property
    def batch_mode(self) -> bool:
        """Batch API mode as the task keeps it (the split records batch once the size chose it)."""
        return self.mode == "batch"


class InputChoices(BaseModel):
    """Input: how the uploaded file is read (ingest/readers)."""

    model_config = ConfigDict(defer_build=True)  # a part of the models below: its schema is built if used alone

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


class OutputChoices(BaseModel):
    """Output: how the results files are written (results/export.py)."""

    model_config = ConfigDict(defer_build=True)  # a part of the models below: its schema is built if used alone

    # A UTF-8 byte-order mark first in the CSV, which Excel needs to read it as UTF-8.
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


# pydantic lists the fields of the last base first: the schema reads analysis, insight, spending,
# input, output. A new option goes in its group above, nowhere else.
class OptionsRequest(OutputChoices, InputChoices, SpendingChoices, InsightChoices, AnalysisChoices):
    """What a client asks of a task: `options` of POST /v1/tasks, /v1/batches and a drop's sidecar."""

    # Its schema (and DropOptionsRequest's) is built at its first use: by the API and the splitter's
    # sidecar, not at the cold start of every worker that reads a stored task's AnalysisOptions.
    model_config = ConfigDict(extra="forbid", defer_build=True)


class DropOptionsRequest(OptionsRequest):
    """A drop's `<path>.options.json`: the API's `options`, and what a batch request says about its
    file beside them (a drop has no request to say it in)."""

    format: str | None = Field(
        default=None,
        description="csv, json, jsonl, txt, xlsx or conversations; told from the file name when left out",
    )
    text_field: str | None = Field(default=None, min_length=1, max_length=256)
    id_field: str | None = Field(default=None, min_length=1, max_length=256)

    def requested(self) -> OptionsRequest:
        """The options alone, without what the sidecar says about its file."""
        return OptionsRequest.model_validate(self.model_dump(include=set(OptionsRequest.model_fields)))


class AnalysisOptions(OptionsRequest):
    """Stored on the task when it is created (resolve_options), so a later change of the default
    cannot alter it; what the workers read. Unknown keys are ignored on reading: a task stored by a
    newer version stays readable by an older one during a deploy."""

    model_config = ConfigDict(extra="ignore", defer_build=False)  # every worker reads it: built at import

    engine: EngineName = "lexicon"  # type: ignore[assignment]  # resolved: always named
    # The version is pinned when the task is created where the creator knows it; else the model's
    # current version when a chunk is analysed.
    model_version: str | None = Field(default=None, pattern=NAME_PATTERN)

    @classmethod
    def of(cls, requested: OptionsRequest, **resolved: object) -> AnalysisOptions:
        """The options a task keeps from what its client asked (`resolved`: what resolution decided)."""
        return cls.model_validate({**requested.model_dump(include=set(OptionsRequest.model_fields)), **resolved})
