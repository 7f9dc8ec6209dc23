"""What a task asks of the analysis: its engine, the aspects it names, whether it wants a report,
and how its insights are cut (segments, time)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from reviewpulse.analysis.engine_names import EngineName
from reviewpulse.analysis.models.names import NAME_PATTERN

TimeBucket = Literal["day", "week", "month"]
# What the items left get when a budget (the task's or the tenant's month) runs out.
BudgetPolicy = Literal["lexicon", "pause"]
# How an llm or auto task's LLM requests are sent: one by one as chunks arrive (sync), or through
# the provider's Batch API (batch: answered within 24 hours at half price).
LlmMode = Literal["sync", "batch"]
# The CSV delimiters a file may use (what spreadsheets write); None: told from the file itself.
CsvDelimiter = Literal[",", ";", "\t", "|"]


class AnalysisOptions(BaseModel):
    """Stored on the task when it is created, so a later change of the default cannot alter it."""

    engine: EngineName = "lexicon"
    aspects: list[str] = Field(default_factory=list)
    report: bool = False
    # auto only: items whose calibrated confidence (the lexicon's, or the model's) is below this go
    # to the LLM. With a model and none given, the model's own threshold (its card's auto.threshold).
    min_confidence: float | None = Field(default=None, ge=0, le=1)
    # A tenant's model (analysis/models): lexicon and auto read texts with it instead of the lexicon.
    # The version is pinned when the task is created where the creator knows it; else the model's
    # current version when a chunk is analysed.
    model_id: str | None = Field(default=None, pattern=NAME_PATTERN)
    model_version: str | None = Field(default=None, pattern=NAME_PATTERN)
    group_by: list[str] = Field(default_factory=list)
    time_field: str | None = None
    time_bucket: TimeBucket | None = None
    # A column of the customer's own labels: the ready task's insights carry an evaluation of the
    # engine against them (results/evaluation.py says how the column is read).
    label_field: str | None = None
    # Categories the customer defines: a name and the words and phrases that put an item in it
    # (results/categories.py); the insights count each category's items.
    categories: dict[str, list[str]] = Field(default_factory=dict)
    compare_to: str | None = None  # a ready task of the same tenant, checked when the task is created
    # Personal data is replaced by placeholders before any text reaches an LLM; False only where the
    # deployment allows it (AllowUnredactedLlm), checked when the task is created.
    redact_pii: bool = True
    quote_only: bool = False  # batches: count and price first; POST /v1/tasks/{id}/start runs it
    max_cost_usd: float | None = Field(default=None, gt=0)  # what the task's LLM requests may cost
    on_budget_exhausted: BudgetPolicy = "lexicon"
    # llm and auto only. None: the deployment decides (batch above LlmBatchMinItems items, when set).
    mode: LlmMode | None = None

    @property
    def batch_mode(self) -> bool:
        return self.mode == "batch"

    # CSV input: its delimiter, else detected (ingest/readers/csv_file.py); results: a UTF-8
    # byte-order mark first in the CSV, which Excel needs to read it as UTF-8.
    delimiter: CsvDelimiter | None = None
    sheet: str | None = None  # .xlsx input: the worksheet read (ingest/readers/xlsx_file.py); None: the first
    csv_bom: bool = False
    csv_escape_formulas: bool = True  # off: the results CSV's cells exactly as the input's (machine consumers)
