"""What a finished task says about its batch as a whole: the summary, the report's themes and the
conversations in numbers. Models only, so that the task model and the code that builds them share
one home without importing each other."""

from __future__ import annotations

from pydantic import BaseModel


class ConversationsSummary(BaseModel):
    """The task's conversations in numbers; conversations without an analysed message have no
    label or direction, so they count only in `conversations`."""

    conversations: int
    labels: dict[str, int]
    directions: dict[str, int]


class Summary(BaseModel):
    counts: dict[str, int]
    percentages: dict[str, float]
    mean_score: float | None
    conversations: ConversationsSummary | None = None  # for files of chat conversations


class ThemeCount(BaseModel):
    theme: str
    polarity: str  # praise | complaint
    count: int  # items that mention it
    example_ids: list[str]


# Who wrote a report's executive summary.
WRITTEN_BY_LLM = "llm"
WRITTEN_BY_TEMPLATE = "template"


class TaskWarning(BaseModel):
    """Something the task could not do as asked, while its results were still delivered."""

    code: str
    detail: str


class Report(BaseModel):
    """The batch's main themes, counted from the per-item results, and an executive summary."""

    themes: list[ThemeCount]
    executive_summary: str
    written_by: str  # llm, or template when no LLM wrote it
