"""Finalize a task once every item is counted: merged results, summary, status `ready`.

Merging is a pure function of the stored parts (and the input file, for the CSV's own columns),
so two racing finalizers write identical objects; the conditional status change lets exactly one
of them mark the task ready.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import IO, TYPE_CHECKING

from reviewpulse.ingest.formats import FileFormat, FileSpec
from reviewpulse.ingest.readers import open_rows
from reviewpulse.ingest.readers.rows import Row
from reviewpulse.observability import MetricUnit, logger, metrics
from reviewpulse.queues import FinalizeRequest
from reviewpulse.results.conversations import ConversationsBuilder
from reviewpulse.results.insights import InsightsBuilder
from reviewpulse.results.model import ItemResult
from reviewpulse.results.report import ThemeCounter, build_report
from reviewpulse.results.store import (
    ResultStore,
    SourceChanged,
    conversations_key,
    outgoing_keys,
    parse_source_key,
    results_keys,
)
from reviewpulse.results.summary import SummaryBuilder
from reviewpulse.settings import Settings
from reviewpulse.tasks.model import Task, TaskError, TaskType
from reviewpulse.tasks.repository import TaskRepository
from reviewpulse.usecases.deliver_insights import deliver_report, first_conversations, store_insights

if TYPE_CHECKING:
    from reviewpulse.analysis.llm.engine import LlmEngine

ANALYSIS_COLUMNS = [
    "sentiment_label",
    "sentiment_score",
    "sentiment_confidence",
    "sentiment_engine",
    "error_code",
    "error_detail",
]
# Spreadsheet programs run cells that start with these as formulas (CSV injection); plain
# numbers such as a negative score are left alone.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?([eE][+-]?\d+)?")


# Parts are small objects read one request each; a few in flight hide S3's latency.
PART_READ_CONCURRENCY = 8


class ResultsMismatch(RuntimeError):
    """The stored parts do not line up with the task's rows: finalizing must not go on."""


def finalize_request(
    request: FinalizeRequest,
    *,
    tasks: TaskRepository,
    store: ResultStore,
    settings: Settings,
    llm: Callable[[], LlmEngine] | None = None,
    deadline: float | None = None,
) -> bool:
    """Handle a finalize request: a duplicate, or one for a task that already ended, does nothing."""
    task = tasks.get(request.tenant, request.task_id)
    if task is None or not task.needs_finalizing:
        return False
    return finalize_task(task, tasks=tasks, store=store, settings=settings, llm=llm, deadline=deadline)


def finalize_task(
    task: Task,
    *,
    tasks: TaskRepository,
    store: ResultStore,
    settings: Settings,
    llm: Callable[[], LlmEngine] | None = None,
    deadline: float | None = None,
) -> bool:
    """Write the merged results and mark the task ready. True if this call made it ready.
    `llm` writes the executive summary of an LLM task's report, if it can before `deadline`."""
    jsonl_key, csv_key = results_keys(task.tenant, task.task_id)
    summary = SummaryBuilder()
    conversations = ConversationsBuilder()
    themes = ThemeCounter() if task.options.report else None
    insights = InsightsBuilder(task.task_id, task.options, task.columns)
    with (
        tempfile.TemporaryFile() as jsonl_file,
        tempfile.TemporaryFile() as csv_file,
        tempfile.TemporaryFile() as conversations_file,
    ):
        results = _with_conversations(_merged_results(task, store), conversations, conversations_file)
        if themes is not None:
            results = _each(results, themes.add)
        try:
            written = _write_outputs(task, results, summary, store, settings, jsonl_file, csv_file, insights.add)
        except SourceChanged as exc:
            logger.warning("input replaced before finalizing", extra={"tenant": task.tenant, "task_id": task.task_id})
            tasks.mark_error(task.tenant, task.task_id, TaskError(code="source-changed", detail=str(exc)))
            return False
        if written != task.progress.total:
            raise ResultsMismatch(f"task has {task.progress.total} items but {written} results are stored")
        store.put_file(jsonl_key, jsonl_file, "application/x-ndjson")
        store.put_file(csv_key, csv_file, "text/csv; charset=utf-8")
        task_summary = summary.build(conversations.build())
        if task_summary.conversations is not None:  # only files of chat conversations have any
            trajectories = first_conversations(conversations_file)  # before the upload, which closes it
            store.put_file(conversations_key(task.tenant, task.task_id), conversations_file, "application/x-ndjson")
        else:
            trajectories = []
    task_insights = store_insights(task, insights.build(), store)
    latest = tasks.get(task.tenant, task.task_id)
    if latest is None or latest.status.is_terminal:
        return False  # cancelled, purged or finished by another finalizer meanwhile: deliver nothing
    if task.type is TaskType.DROP and task.source_key:
        source = parse_source_key(task.source_key)
        if source is not None:
            out_jsonl, out_csv, out_conversations = outgoing_keys(source)
            store.copy(jsonl_key, out_jsonl, task_id=task.task_id)
            store.copy(csv_key, out_csv, task_id=task.task_id)
            if task_summary.conversations is not None:
                store.copy(conversations_key(task.tenant, task.task_id), out_conversations, task_id=task.task_id)
    report, usage = None, None
    if themes is not None:
        writer = (
            partial(llm().summarize, deadline=deadline) if llm is not None and task.options.engine == "llm" else None
        )
        # Without themes of its own (LLM, or named aspects), the report has the phrases found in the text.
        report, spent = build_report(task_summary, themes.top() or task_insights.report_themes(), writer)
        usage = spent if spent.requests else None
    deliver_report(
        task, summary=task_summary, insights=task_insights, report=report, conversations=trajectories, store=store
    )
    won = tasks.mark_ready(
        task.tenant,
        task.task_id,
        summary=task_summary,
        results_key=jsonl_key,
        results_csv_key=csv_key,
        report=report,
        usage=usage,
        warnings=task_insights.warnings,
    )
    if won:
        logger.info("task ready", extra={"task_id": task.task_id, "tenant": task.tenant, "items": written})
        metrics.add_metric(name="TasksCompleted", unit=MetricUnit.Count, value=1)
    return won


def _each(results: Iterator[ItemResult], observe: Callable[[ItemResult], None]) -> Iterator[ItemResult]:
    for result in results:
        observe(result)
        yield result


def _with_conversations(
    results: Iterator[ItemResult], conversations: ConversationsBuilder, file: IO[bytes]
) -> Iterator[ItemResult]:
    """The results unchanged; each conversation's summary is written to `file` as it ends."""
    for result in results:
        finished = conversations.add(result)
        if finished is not None:
            file.write(finished.to_json().encode() + b"\n")
        yield result
    finished = conversations.finish()
    if finished is not None:
        file.write(finished.to_json().encode() + b"\n")


def _merged_results(task: Task, store: ResultStore) -> Iterator[ItemResult]:
    """Every counted part in chunk order, read a few at a time ahead of the writer."""
    attempts = []
    for chunk in range(task.chunk_count or 0):
        attempt = task.parts.get(str(chunk))
        if attempt is None:
            raise ResultsMismatch(f"chunk {chunk} has no counted part")
        attempts.append((chunk, attempt))
    with ThreadPoolExecutor(max_workers=PART_READ_CONCURRENCY) as pool:
        pending: deque = deque()
        for chunk, attempt in attempts:
            pending.append(pool.submit(store.read_part, task.tenant, task.task_id, chunk, attempt))
            if len(pending) >= PART_READ_CONCURRENCY:
                yield from sorted(pending.popleft().result(), key=lambda r: r.row)
        while pending:
            yield from sorted(pending.popleft().result(), key=lambda r: r.row)


def _write_outputs(
    task: Task,
    results: Iterator[ItemResult],
    summary: SummaryBuilder,
    store: ResultStore,
    settings: Settings,
    jsonl_file: IO[bytes],
    csv_file: IO[bytes],
    observe: Callable[[ItemResult, Row | None], None],
) -> int:
    csv_text = io.TextIOWrapper(csv_file, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(csv_text)
    input_columns = task.columns if (task.source_key and task.format and task.columns) else None
    analysis_columns = ANALYSIS_COLUMNS + _option_columns(task)
    if input_columns is not None:
        analysis = [_unique(name, input_columns) for name in analysis_columns]
        writer.writerow([_safe_cell(c) for c in input_columns + analysis])
        rows = _source_rows(task, store, settings)
    else:
        writer.writerow(["id"] + analysis_columns)
        rows = None
    written = 0
    for result in results:
        written += 1
        if result.row != written:
            raise ResultsMismatch(f"expected row {written}, found row {result.row}")
        summary.add(result)
        jsonl_file.write(result.to_json().encode() + b"\n")
        if rows is not None:
            row = next(rows, None)
            if row is None or row.number != result.row:
                raise ResultsMismatch(f"input has no row {result.row}")
            own = [row.columns.get(name, "") for name in input_columns]
        else:
            own = [result.id]
        observe(result, row if rows is not None else None)
        writer.writerow([_safe_cell(v) for v in own + _analysis_cells(result) + _option_cells(result, task)])
    csv_text.detach()
    return written


def _source_rows(task: Task, store: ResultStore, settings: Settings) -> Iterator:
    spec = FileSpec(
        format=FileFormat(task.format),
        text_field=task.text_field,
        id_field=task.id_field,
        max_text_chars=settings.max_text_chars,
    )
    return iter(open_rows(store.open_source(task.source_key, etag=task.source_etag), spec))


def _analysis_cells(result: ItemResult) -> list[str]:
    if result.error is not None:
        return ["", "", "", "", result.error.code, result.error.detail]
    return [result.label or "", f"{result.score}", f"{result.confidence}", result.engine or "", "", ""]


def _option_columns(task: Task) -> list[str]:
    """Columns for what the task asked for: language (llm), each aspect's label and evidence, themes."""
    columns = ["sentiment_language"] if task.options.engine == "llm" else []
    for aspect in task.options.aspects:
        columns += [f"aspect_{aspect}", f"aspect_{aspect}_evidence"]
    return columns + (["themes"] if task.options.report else [])


def _option_cells(result: ItemResult, task: Task) -> list[str]:
    cells = [result.language or ""] if task.options.engine == "llm" else []
    found = {a.aspect: a for a in result.aspects or ()}
    for aspect in task.options.aspects:
        entry = found.get(aspect)
        cells += [entry.label, entry.evidence or ""] if entry else ["", ""]
    if task.options.report:
        cells.append("; ".join(f"{t.theme} ({t.polarity})" for t in result.themes or ()))
    return cells


def _unique(name: str, taken: list[str]) -> str:
    return name if name not in taken else f"reviewpulse_{name}"


def _safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_PREFIXES) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text
