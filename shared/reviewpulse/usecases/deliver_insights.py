"""Where a finished task's insights and HTML report go: beside its results (a drop's copies in
outgoing/ are usecases/deliver_drop.py's). Called by the finalizer."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import IO

from reviewpulse.results.compare import compare
from reviewpulse.results.conversations import ConversationSummary
from reviewpulse.results.example_texts import ReportItems
from reviewpulse.results.insights import Insights
from reviewpulse.results.report_html import CHART_CONVERSATIONS, render_report
from reviewpulse.results.summaries import Report, Summary
from reviewpulse.storage.layout import (
    insights_key,
    report_key,
)
from reviewpulse.storage.result_files import ResultFiles
from reviewpulse.tasks.model import Task, TaskWarning
from reviewpulse.usecases.deliver_drop import INSIGHTS_TYPE, REPORT_TYPE


def store_insights(task: Task, insights: Insights, result_files: ResultFiles) -> Insights:
    """Write insights.json, with the comparison with options.compare_to's insights when asked for
    (the baseline is read under this task's tenant). Returns what was written."""
    if task.options.compare_to:
        baseline = result_files.read_object(insights_key(task.tenant, task.options.compare_to))
        if baseline is None:
            warning = TaskWarning(
                code="baseline-not-found",
                detail="options.compare_to's insights are gone (the task was purged or expired): nothing compared",
            )
            insights = insights.model_copy(update={"warnings": [*insights.warnings, warning]})
        else:
            comparison = compare(insights, Insights.model_validate_json(baseline), task.options.compare_to)
            insights = insights.model_copy(update={"comparison": comparison})
    result_files.put_file(insights_key(task.tenant, task.task_id), io.BytesIO(insights.to_json()), INSIGHTS_TYPE)
    return insights


def first_conversations(file: IO[bytes], limit: int = CHART_CONVERSATIONS) -> list[ConversationSummary]:
    """The first conversations of a written conversations.jsonl, for the report's chart."""
    file.seek(0)
    found = []
    for line in file:
        if len(found) == limit:
            break
        if line.strip():
            found.append(ConversationSummary.model_validate_json(line))
    file.seek(0)
    return found


@dataclass(frozen=True)
class ReportPage:
    """Command: write `task`'s report page from what the finalizer built (its summary, insights,
    the LLM's report if any, the first conversations for the chart, the example texts)."""

    task: Task
    summary: Summary
    insights: Insights
    report: Report | None
    conversations: list[ConversationSummary]
    items: ReportItems | None = None


def deliver_report(command: ReportPage, result_files: ResultFiles) -> None:
    """Write the report page. Its one collaborator is the bucket's result files (no bundle: the
    finalizer passes its own)."""
    task = command.task
    page = render_report(
        task_id=task.task_id,
        filename=task.filename,
        created_at=task.created_at.isoformat(timespec="seconds"),
        engine=task.options.engine,
        summary=command.summary,
        insights=command.insights,
        report=command.report,
        conversations=command.conversations,
        items=command.items,
        redacted=task.options.redact_pii,
    )
    key = report_key(task.tenant, task.task_id)
    result_files.put_file(key, io.BytesIO(page.encode()), REPORT_TYPE)
