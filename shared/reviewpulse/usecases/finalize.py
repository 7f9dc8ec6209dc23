"""Finalize a task once every item is counted: merged results, summary, status `ready`.

Merging is a pure function of the stored parts (and the input file, for the CSV's own columns),
so two racing finalizers write identical objects; the conditional status change lets exactly one
of them mark the task ready.
"""

from __future__ import annotations

import heapq
import tempfile
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO

from reviewpulse.analysis.engines.base import Engine, EngineParts
from reviewpulse.analysis.engines.registry import engine_for
from reviewpulse.analysis.engines.wrappers import BUDGET_ENGINE
from reviewpulse.analysis.labels import SchemeFinder
from reviewpulse.analysis.llm.pricing import Prices
from reviewpulse.ingest.readers import open_rows
from reviewpulse.ingest.readers.rows import Row
from reviewpulse.observability import MetricUnit, logger, metrics
from reviewpulse.queues import FinalizeRequest
from reviewpulse.results.conversations import ConversationsBuilder
from reviewpulse.results.evaluation import LlmFigures, label_error
from reviewpulse.results.export import ResultsWriter
from reviewpulse.results.headline import headline
from reviewpulse.results.insights_builder import InsightsBuilder
from reviewpulse.results.model import ItemResult
from reviewpulse.results.report import ThemeCounter, build_report
from reviewpulse.results.summaries import TaskWarning
from reviewpulse.results.summary_builder import SummaryBuilder
from reviewpulse.settings import Settings
from reviewpulse.storage.inputs import InputFiles, SourceChanged
from reviewpulse.storage.layout import conversations_key, results_keys
from reviewpulse.storage.result_files import ResultFiles
from reviewpulse.tasks.model import Task, TaskError
from reviewpulse.tasks.repository import TaskRepository
from reviewpulse.usecases import deliver_drop
from reviewpulse.usecases.deliver_insights import ReportPage, deliver_report, first_conversations, store_insights
from reviewpulse.usecases.models import prepare_teaching, queue_teaching
from reviewpulse.usecases.teach_first import Teaching, start_teaching

# Parts are small objects read one request each; a few in flight hide S3's latency.
PART_READ_CONCURRENCY = 8


@dataclass(frozen=True)
class Finalizer:
    """The finalizer's collaborators, built per invocation by its handler from its module's
    factories (which the chaos run and the fault injector replace): the tasks, the input and
    result files, the settings, the engines' parts (for the report's summary writer), and what a
    teaching task needs."""

    tasks: TaskRepository
    input_files: InputFiles
    result_files: ResultFiles
    settings: Settings
    parts: EngineParts | None = None
    teaching: Teaching | None = None


class ResultsMismatch(RuntimeError):
    """The stored parts do not line up with the task's rows: finalizing must not go on."""


def finalize_request(request: FinalizeRequest, finalizer: Finalizer, *, deadline: float | None = None) -> bool:
    """Handle a finalize request (the command): a duplicate, or one for a task that already ended,
    does nothing."""
    tasks, teaching = finalizer.tasks, finalizer.teaching
    task = tasks.get(request.tenant, request.task_id)
    if task is not None and task.needs_teaching and teaching is not None:
        # A taught-first task's sample is counted: its model is taught before the rest is read.
        start_teaching(task, teaching, tasks=tasks)
        return False
    if task is None or not task.needs_finalizing:
        return False
    return finalize_task(task, finalizer, deadline=deadline)


def finalize_task(task: Task, finalizer: Finalizer, *, deadline: float | None = None) -> bool:
    """Write the merged results and mark the task ready. True if this call made it ready. The
    task's engine (built from `parts`) names its extra CSV columns and writes the executive
    summary of its report, if it can before `deadline` (else a template does)."""
    tasks, input_files, result_files = finalizer.tasks, finalizer.input_files, finalizer.result_files
    settings, parts, teaching = finalizer.settings, finalizer.parts, finalizer.teaching
    engine = engine_for(task.options, parts or EngineParts(settings))
    jsonl_key, csv_key = results_keys(task.tenant, task.task_id)
    summary = SummaryBuilder()
    conversations = ConversationsBuilder()
    themes = ThemeCounter() if task.options.report else None
    scheme = _label_scheme(task, input_files, settings)
    insights = InsightsBuilder(task.task_id, task.options, task.columns, label_scheme=scheme)
    with (
        tempfile.TemporaryFile() as jsonl_file,
        tempfile.TemporaryFile() as csv_file,
        tempfile.TemporaryFile() as conversations_file,
    ):
        results = _with_conversations(_merged_results(task, result_files), conversations, conversations_file)
        if themes is not None:
            results = _each(results, themes.add)
        try:
            written = _write_outputs(
                task, engine, results, summary, input_files, settings, jsonl_file, csv_file, insights.add, scheme
            )
        except SourceChanged as exc:
            logger.warning("input replaced before finalizing", extra={"tenant": task.tenant, "task_id": task.task_id})
            tasks.mark_error(task.tenant, task.task_id, TaskError(code="source-changed", detail=str(exc)))
            return False
        if written != task.progress.total:
            raise ResultsMismatch(f"task has {task.progress.total} items but {written} results are stored")
        result_files.put_file(jsonl_key, jsonl_file, "application/x-ndjson")
        result_files.put_file(csv_key, csv_file, "text/csv; charset=utf-8")
        task_summary = summary.build(conversations.build())
        if task_summary.conversations is not None:  # only files of chat conversations have any
            trajectories = first_conversations(conversations_file)  # before the upload, which closes it
            result_files.put_file(
                conversations_key(task.tenant, task.task_id), conversations_file, "application/x-ndjson"
            )
        else:
            trajectories = []
    llm = llm_figures(task, settings) if engine.spends_tokens and task.options.label_field else None
    built = insights.build(llm)
    # The model that answered, once tenant models exist (options.model_id; results name model_id@version).
    model = getattr(task.options, "model_id", None)
    # A batch taught first: its rest was read through the model it taught (usecases/teach_first.py).
    taught = task.options.teach.sample if task.teaches_first and task.options.teach and model else None
    built.headline = headline(task.options.engine, task.answered_by, built.evaluation, model=model, taught_from=taught)
    task_insights = store_insights(task, built, result_files)
    latest = tasks.get(task.tenant, task.task_id)
    if latest is None or latest.status.is_terminal:
        return False  # cancelled, purged or finished by another finalizer meanwhile: deliver nothing
    report, usage = None, None
    if themes is not None:
        # Without themes of its own (LLM, or named aspects), the report has the phrases found in the text.
        report, spent = build_report(
            task_summary, themes.top() or task_insights.report_themes(), engine.summary_writer(deadline)
        )
        usage = spent if spent.requests else None
    page = ReportPage(task, task_summary, task_insights, report, trajectories, items=insights.report_items)
    deliver_report(page, result_files)
    # A drop's copies in outgoing/, before its end is won (its receipt is written then, last).
    deliver_drop.results_ready(task, result_files, conversations=task_summary.conversations is not None)
    teach_warnings = _prepare_teaching(task, teaching)
    won = tasks.mark_ready(
        task.tenant,
        task.task_id,
        summary=task_summary,
        results_key=jsonl_key,
        results_csv_key=csv_key,
        report=report,
        usage=usage,
        warnings=[*task_insights.warnings, *_budget_warnings(task), *teach_warnings],
        headline=task_insights.headline,
    )
    if (
        won
        and teaching is not None
        and task.options.teach is not None
        and not task.teaches_first
        and not teach_warnings
    ):
        queue_teaching(task, models=teaching.models, queue=teaching.queue, correlation_id=task.correlation_id)
    if won:
        logger.info("task ready", extra={"task_id": task.task_id, "tenant": task.tenant, "items": written})
        metrics.add_metric(name="TasksCompleted", unit=MetricUnit.Count, value=1)
    return won


def _prepare_teaching(task: Task, teaching: Teaching | None) -> list[TaskWarning]:
    """A teaching task's model record, before the task is ready; what kept it from being taught
    becomes the task's `teach-failed` warning (the analysis itself is never failed for it)."""
    if task.options.teach is None:
        return []
    if task.teaches_first:  # its model was taught before the rest was read (teach_first.py)
        failure = task.teach_failure
        return [TaskWarning(code="teach-failed", detail=failure)] if failure else []
    if teaching is None:
        failure: str | None = "this deployment's finalizer cannot ask for models"
    else:
        try:
            _, failure = prepare_teaching(task, models=teaching.models, correlation_id=task.correlation_id)
        except Exception as exc:
            logger.exception("teaching not prepared", extra={"task_id": task.task_id})
            failure = f"the model could not be recorded ({type(exc).__name__})"
    return [TaskWarning(code="teach-failed", detail=failure)] if failure else []


def llm_figures(task: Task, settings: Settings) -> LlmFigures:
    """What the task's LLM requests took, per 1,000 analysed items (for its evaluation)."""
    analysed = task.progress.processed
    by_llm = task.answered_by.get("llm", 0)
    tokens = task.usage.input_tokens + task.usage.output_tokens
    cost = Prices.of(settings).usage_cost_usd(task.usage)
    per_1000 = 1000 / analysed if analysed else 0.0
    return LlmFigures(
        items_answered_by_llm=by_llm,
        share_answered_by_llm=round(by_llm / analysed, 4) if analysed else 0.0,
        input_tokens=task.usage.input_tokens,
        output_tokens=task.usage.output_tokens,
        cost_usd=round(cost, 6),
        tokens_per_1000_items=round(tokens * per_1000, 1),
        cost_per_1000_items_usd=round(cost * per_1000, 6),
    )


def _budget_warnings(task: Task) -> list[TaskWarning]:
    """Items the lexicon answered because a budget ran out (on_budget_exhausted lexicon)."""
    answered = task.answered_by.get(BUDGET_ENGINE, 0)
    if not answered:
        return []
    detail = f"a budget ran out: {answered} items were answered by the lexicon (engine {BUDGET_ENGINE})"
    return [TaskWarning(code="budget-exhausted", detail=detail)]


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


def _merged_results(task: Task, result_files: ResultFiles) -> Iterator[ItemResult]:
    """Every counted part in chunk order, read a few at a time ahead of the writer. A taught-first
    task has two sets of chunks, each in row order (the sample's, then the rest's): merged by row."""
    attempts = []
    for chunk in range(task.chunk_count or 0):
        attempt = task.parts.get(str(chunk))
        if attempt is None:
            raise ResultsMismatch(f"chunk {chunk} has no counted part")
        attempts.append((chunk, attempt))
    split = task.teach_sample_chunks if task.teaches_first else None
    if split:
        by_row = lambda result: result.row  # noqa: E731
        first, rest = attempts[:split], attempts[split:]
        return heapq.merge(_read_parts(task, result_files, first), _read_parts(task, result_files, rest), key=by_row)
    return _read_parts(task, result_files, attempts)


def _read_parts(task: Task, result_files: ResultFiles, attempts: list[tuple[int, str]]) -> Iterator[ItemResult]:
    with ThreadPoolExecutor(max_workers=PART_READ_CONCURRENCY) as pool:
        pending: deque = deque()
        for chunk, attempt in attempts:
            pending.append(pool.submit(result_files.read_part, task.tenant, task.task_id, chunk, attempt))
            if len(pending) >= PART_READ_CONCURRENCY:
                yield from sorted(pending.popleft().result(), key=lambda r: r.row)
        while pending:
            yield from sorted(pending.popleft().result(), key=lambda r: r.row)


def _write_outputs(
    task: Task,
    engine: Engine,
    results: Iterator[ItemResult],
    summary: SummaryBuilder,
    input_files: InputFiles,
    settings: Settings,
    jsonl_file: IO[bytes],
    csv_file: IO[bytes],
    observe: Callable[[ItemResult, Row | None], None],
    label_scheme: str | None = None,
) -> int:
    """`label_scheme`: the label column's (options.label_field): each row whose label it cannot
    read gets its invalid-label."""
    input_columns = task.columns if (task.source_key and task.format and task.columns) else None
    # For Excel (csv_bom), the results CSV keeps the input's delimiter: `;` where Excel writes `;`.
    delimiter = (task.source_delimiter or ",") if task.options.csv_bom else ","
    writer = ResultsWriter(jsonl_file, csv_file, task.options, engine, input_columns, delimiter=delimiter)
    rows = _source_rows(task, input_files, settings) if input_columns is not None else None
    field = task.options.label_field or ""
    written = 0
    for result in results:
        written += 1
        if result.row != written:
            raise ResultsMismatch(f"expected row {written}, found row {result.row}")
        summary.add(result)
        row = None
        if rows is not None:
            row = next(rows, None)
            if row is None or row.number != result.row:
                raise ResultsMismatch(f"input has no row {result.row}")
            if label_scheme is not None and (error := label_error(row.columns.get(field), label_scheme)):
                result = result.model_copy(update={"label_error": error})
        observe(result, row)
        writer.write(result, row.columns if row is not None else None)
    writer.close()
    return written


def _label_scheme(task: Task, input_files: InputFiles, settings: Settings) -> str | None:
    """options.label_field: how its column is read, from all its values (a pass over the input's
    label column before the merge), so each row's invalid-label is known as the row is written."""
    field = task.options.label_field
    if not field or not task.source_key or not task.format or field not in (task.columns or []):
        return None
    finder = SchemeFinder()
    for row in _source_rows(task, input_files, settings):
        finder.add(row.columns.get(field) or "")
    return finder.scheme().name


def _source_rows(task: Task, input_files: InputFiles, settings: Settings) -> Iterator:
    spec = task.file_spec(settings.max_text_chars)
    return iter(open_rows(input_files.open_source(task.source_key, etag=task.source_etag), spec))
