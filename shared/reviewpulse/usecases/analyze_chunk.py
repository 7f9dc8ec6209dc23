"""Analyse one chunk of items, store its results, count it exactly once."""

from __future__ import annotations

import secrets
import time
from collections import Counter
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from reviewpulse.analysis.engines.base import AnalysisUnavailable
from reviewpulse.analysis.engines.wrappers import FALLBACK_ENGINE
from reviewpulse.analysis.llm.outcome import BUDGET_EXHAUSTED
from reviewpulse.analysis.llm.pricing import Prices
from reviewpulse.analysis.sentiment import Analysis, Usage
from reviewpulse.observability import MetricUnit, logger, metrics
from reviewpulse.queues import WorkMessage
from reviewpulse.results.model import ItemResult
from reviewpulse.tasks.model import Task, TaskStatus

if TYPE_CHECKING:
    from reviewpulse.analysis.engines.base import Engine, EngineParts
    from reviewpulse.analysis.options import AnalysisOptions
    from reviewpulse.provider_batches.repository import ProviderBatchRepository
    from reviewpulse.queues import FinalizeQueue
    from reviewpulse.storage.paused_chunks import PausedChunks
    from reviewpulse.storage.result_files import ResultFiles
    from reviewpulse.tasks.repository import TaskRepository
    from reviewpulse.tenants.budgets import BudgetRepository
    from reviewpulse.usecases.spend import TaskSpend

__all__ = [
    "AnalysisUnavailable",
    "AnalyzeChunk",
    "AnalyzeItems",
    "Answerers",
    "Budgets",
    "ChunkWorker",
    "ChunkOutcome",
    "CountChunk",
    "Counting",
    "analyze_items",
    "item_results",
    "process_chunk",
    "store_and_count",
    "texts_of",
]


@dataclass(frozen=True)
class ChunkOutcome:
    counted: bool  # False when this delivery was a duplicate or the task had already ended
    processed: int
    failed: int
    completed: bool  # the task is now fully counted and its finalization was requested


@dataclass(frozen=True)
class AnalyzeItems:
    """Command: answer `message`'s items with `options`; LLM requests stop at `deadline`
    (time.monotonic() seconds)."""

    message: WorkMessage
    options: AnalysisOptions
    deadline: float | None = None


@dataclass(frozen=True)
class Answerers:
    """The engine that answers a chunk, and the `teacher` (the LLM engine of a task that teaches a
    model on auto) that answers its teaching sample instead."""

    engine: Engine
    teacher: Engine | None = None


def analyze_items(command: AnalyzeItems, answerers: Answerers) -> tuple[list[ItemResult], Usage]:
    """Results in row order; rows the splitter already rejected keep their error. LLM requests
    stop at `deadline`; what the engine leaves unanswered then has followed its fallback policy.
    With a `teacher`, the items of the teaching sample are answered by it instead."""
    message, options, deadline = command.message, command.options, command.deadline
    engine, teacher = answerers.engine, answerers.teacher
    texts = texts_of(message)
    taught = {item.row for item in message.items if item.teach} if teacher is not None else set()
    answers: dict = {}
    usage = Usage()
    if taught and teacher is not None:
        by_teacher = teacher.answer(
            message.tenant, {row: text for row, text in texts.items() if row in taught}, options, deadline=deadline
        )
        answers.update(by_teacher.answers)
        usage.add(by_teacher.usage)
    rest = {row: text for row, text in texts.items() if row not in taught}
    if rest or not taught:
        analysed = engine.answer(message.tenant, rest, options, deadline=deadline)
        answers.update(analysed.answers)
        usage.add(analysed.usage)
    return item_results(message, answers), usage


def texts_of(message: WorkMessage) -> dict[int, str]:
    """The chunk's texts to analyse by row; rows the splitter rejected have none."""
    return {item.row: item.text for item in message.items if item.error is None and item.text is not None}


def item_results(message: WorkMessage, answers: dict) -> list[ItemResult]:
    """One result per item in row order: its answer (by row), or the error the splitter found."""
    texts = texts_of(message)
    results = []
    for item in message.items:
        if item.row not in texts:
            error = item.error
            results.append(
                ItemResult.failed(item, error.code if error else "invalid-row", error.detail if error else "")
            )
            continue
        answer = answers[item.row]
        if isinstance(answer, Analysis):
            results.append(ItemResult.analyzed(item, answer))
        else:
            results.append(ItemResult.failed(item, answer.code, answer.detail))
    return results


@dataclass(frozen=True)
class CountChunk:
    """Command: count `message`'s chunk once with these `results` (and the LLM `usage` they cost)."""

    message: WorkMessage
    results: list[ItemResult]
    correlation_id: str | None = None
    usage: Usage | None = None


@dataclass(frozen=True)
class Counting:
    """Where a chunk's results are written and counted, and its finalization asked for (the chunk
    worker, the Batch API collector and the dead-letter function each pass their own)."""

    tasks: TaskRepository
    result_files: ResultFiles
    finalizer: FinalizeQueue


def store_and_count(command: CountChunk, deps: Counting) -> ChunkOutcome:
    """Write this attempt's part, then count the chunk once; ask for finalization when complete.

    The part goes to a key of its own and the counting update names it, so a losing duplicate
    can never overwrite the results that were counted."""
    message, results, correlation_id, usage = command.message, command.results, command.correlation_id, command.usage
    tasks, result_files, finalizer = deps.tasks, deps.result_files, deps.finalizer
    failed = sum(1 for result in results if result.error is not None)
    processed = len(results) - failed
    attempt = secrets.token_hex(4)
    # Only a chunk that asked the LLM has usage to add; a lexicon chunk's update stays as it was.
    spent = usage if usage is not None and (usage.requests or usage.cached_items) else None
    # Which engine answered how many items, counted in the same conditional update.
    answered_by = Counter(result.engine for result in results if result.engine is not None)
    result_files.put_part(message.tenant, message.task_id, message.chunk, attempt, results)
    task = tasks.record_chunk(
        message.tenant,
        message.task_id,
        chunk=message.chunk,
        attempt=attempt,
        processed=processed,
        failed=failed,
        usage=spent,
        answered_by=dict(answered_by),
    )
    counted = task is not None
    if task is None:
        # Already counted (a redelivery) or the task has ended. A redelivery may still owe the
        # task its finalization request if the earlier attempt died right after counting.
        task = tasks.get(message.tenant, message.task_id)
    completed = task is not None and task.needs_finalizing
    # A taught-first task's counted sample: the finalizer asks for its model (usecases/teach_first.py).
    if completed or (task is not None and task.needs_teaching):
        finalizer.request(message.tenant, message.task_id, correlation_id)
    if counted:
        metrics.add_metric(name="ItemsAnalysed", unit=MetricUnit.Count, value=processed)
        metrics.add_metric(name="ItemsFailed", unit=MetricUnit.Count, value=failed)
        if spent is not None:
            metrics.add_metric(name="LlmRequests", unit=MetricUnit.Count, value=spent.requests)
            metrics.add_metric(name="LlmInputTokens", unit=MetricUnit.Count, value=spent.input_tokens)
            metrics.add_metric(name="LlmOutputTokens", unit=MetricUnit.Count, value=spent.output_tokens)
            metrics.add_metric(name="LlmCachedItems", unit=MetricUnit.Count, value=spent.cached_items)
        fallbacks = answered_by[FALLBACK_ENGINE]
        if fallbacks:
            metrics.add_metric(name="LlmFallbackItems", unit=MetricUnit.Count, value=fallbacks)
    return ChunkOutcome(counted=counted, processed=processed, failed=failed, completed=completed)


@dataclass(frozen=True)
class Budgets:
    """What the chunk workflow needs for budgets: the tenants' monthly budgets, and where the
    chunks of a paused task wait."""

    budgets: BudgetRepository
    paused_chunks: PausedChunks


@dataclass(frozen=True)
class AnalyzeChunk:
    """Command: analyse one work message's chunk. LLM requests stop at `deadline`
    (time.monotonic() seconds), in time to store and count the chunk."""

    message: WorkMessage
    correlation_id: str | None = None
    deadline: float | None = None


@dataclass(frozen=True)
class ChunkWorker:
    """The chunk worker's collaborators, built per invocation by its handler from its module's
    factories (so a test or the fault injector can swap one): the engines' parts, the tasks, the
    result files, the finalize queue, and where it has them, the budgets and Batch API records."""

    parts: EngineParts
    tasks: TaskRepository
    result_files: ResultFiles
    finalizer: FinalizeQueue
    budgets: Budgets | None = None
    provider_batches: ProviderBatchRepository | None = None


def process_chunk(command: AnalyzeChunk, worker: ChunkWorker) -> ChunkOutcome:
    """Analyse a chunk with the engine its task's options name (built from `parts`), store its
    results and count them once. A task in Batch API mode hands the chunk to the collector
    (`provider_batches`) instead: it is counted once its answers are in (no budget applies there:
    the Batch API's requests are not reserved one by one). With `budgets`, the LLM requests of a
    task on an engine that spends tokens are reserved and settled against its budgets; when one
    runs out, the items left follow options.on_budget_exhausted (the lexicon answers them, or the
    chunk is parked and the task paused)."""
    message, correlation_id, deadline = command.message, command.correlation_id, command.deadline
    parts, tasks, result_files, budgets = worker.parts, worker.tasks, worker.result_files, worker.budgets
    provider_batches = worker.provider_batches
    started = time.perf_counter()
    task = tasks.get(message.tenant, message.task_id)
    if task is None or task.status.is_terminal:
        # Cancelled, failed or gone: the chunk is skipped, not analysed.
        logger.info(
            "chunk skipped",
            extra={
                "tenant": message.tenant,
                "task_id": message.task_id,
                "chunk": message.chunk,
                "status": task.status.value if task else "missing",
            },
        )
        return ChunkOutcome(counted=False, processed=0, failed=0, completed=False)
    if task.status is TaskStatus.PAUSED and budgets is not None:
        # Its budget is spent: the chunk waits for the resume without asking the LLM first.
        return _park(message, task.paused_reason or "the task is paused", 0, tasks, budgets)
    if task.options.batch_mode:
        if provider_batches is None:
            raise RuntimeError("this worker was given no Batch API records for a task in batch mode")
        return wait_for_batch_api(message, task, provider_batches=provider_batches, result_files=result_files)
    # Imported for the first chunk analysed: every engine, and the budgets' bookkeeping (a skipped
    # chunk, or one for the Batch API, loads neither at a cold start).
    from reviewpulse.analysis.engines.registry import engine_for
    from reviewpulse.usecases.spend import TaskSpend

    engine = engine_for(task.options, parts)
    spend = None
    if budgets is not None and engine.spends_tokens:
        spend = TaskSpend(
            task.tenant,
            task.task_id,
            task_limit_usd=task.options.max_cost_usd,
            tasks=tasks,
            budgets=budgets.budgets,
            prices=Prices.of(parts.settings),
        )
        engine = engine_for(task.options, replace(parts, spend=spend))
    results, usage = analyze_items(
        AnalyzeItems(message, task.options, deadline), Answerers(engine, teacher=_teacher(task, spend, parts))
    )
    if budgets is not None and any(r.error is not None and r.error.code == BUDGET_EXHAUSTED for r in results):
        # on_budget_exhausted pause: nothing of this chunk counts now. Answers already paid for
        # are in the result cache, so the resumed chunk does not pay for them again.
        exhausted = spend.exhausted if spend is not None else None
        reason = f"{exhausted or 'a budget'} has no room left for more LLM requests"
        return _park(message, reason, spend.refused_micros if spend is not None else 0, tasks, budgets)
    outcome = store_and_count(
        CountChunk(message, results, correlation_id, usage), Counting(tasks, result_files, worker.finalizer)
    )
    metrics.add_metric(name="ChunkLatency", unit=MetricUnit.Milliseconds, value=(time.perf_counter() - started) * 1000)
    logger.info(
        "chunk done",
        extra={
            "tenant": message.tenant,
            "task_id": message.task_id,
            "chunk": message.chunk,
            "processed": outcome.processed,
            "failed": outcome.failed,
            "counted": outcome.counted,
            "completed": outcome.completed,
            "engine": engine.name,
            "answered_by": dict(Counter(result.engine for result in results if result.engine)),
            "llm_requests": usage.requests,
            "cached_items": usage.cached_items,
        },
    )
    return outcome


def _teacher(task: Task, spend: TaskSpend | None, parts: EngineParts) -> Engine | None:
    """On auto with options.teach, the LLM engine (with the same budgets and redaction) that answers
    the teaching sample; on llm the engine itself answers every item, so none is needed."""
    from reviewpulse.analysis.engines.registry import teacher_for  # with engine_for, above

    return teacher_for(task.options, replace(parts, spend=spend) if spend is not None else parts)


def _park(
    message: WorkMessage, reason: str, needed_micros: int, tasks: TaskRepository, budgets: Budgets
) -> ChunkOutcome:
    """Keep the chunk for POST .../resume and pause its task (again: a resume may have come
    between); `needed_micros` is the request a budget refused, the room a resume waits for."""
    budgets.paused_chunks.park(message.tenant, message.task_id, message.chunk, message.body())
    paused = tasks.mark_paused(message.tenant, message.task_id, reason, needed_micros=needed_micros)
    if paused is not None:
        metrics.add_metric(name="TasksPaused", unit=MetricUnit.Count, value=1)
        logger.warning("task paused: budget exhausted", extra={"tenant": message.tenant, "task_id": message.task_id})
    logger.info("chunk parked", extra={"tenant": message.tenant, "task_id": message.task_id, "chunk": message.chunk})
    return ChunkOutcome(counted=False, processed=0, failed=0, completed=False)


def wait_for_batch_api(
    message: WorkMessage, task: Task, *, provider_batches: ProviderBatchRepository, result_files: ResultFiles
) -> ChunkOutcome:
    """Keep the chunk for the Batch API collector (which submits, collects and counts it). Each
    step is idempotent, so a redelivered message changes nothing."""
    result_files.put_waiting_chunk(message.tenant, message.task_id, message.chunk, message.body())
    provider_batches.open_task(message.tenant, message.task_id, expires_at=task.expires_at)
    added = provider_batches.add_chunk(message.tenant, message.task_id, message.chunk, expires_at=task.expires_at)
    logger.info(
        "chunk waits for the Batch API",
        extra={"tenant": message.tenant, "task_id": message.task_id, "chunk": message.chunk, "new": added},
    )
    return ChunkOutcome(counted=False, processed=0, failed=0, completed=False)
