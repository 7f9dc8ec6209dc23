"""Analyse one chunk of items, store its results, count it exactly once."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from reviewpulse.analysis.base import Analyzer
from reviewpulse.observability import MetricUnit, failure_fields, logger, metrics
from reviewpulse.queues import FinalizeQueue, WorkMessage
from reviewpulse.results.model import ItemResult
from reviewpulse.results.store import ResultStore
from reviewpulse.tasks.repository import TaskRepository


class AnalysisUnavailable(RuntimeError):
    """A transient failure of the engine: the whole chunk is retried by SQS."""


@dataclass(frozen=True)
class ChunkOutcome:
    counted: bool  # False when this delivery was a duplicate or the task had already ended
    processed: int
    failed: int
    completed: bool  # the task is now fully counted and its finalization was requested


def analyse_items(message: WorkMessage, analyzer: Analyzer) -> list[ItemResult]:
    """Results in row order; rows the splitter already rejected keep their error."""
    usable = [item for item in message.items if "text" in item]
    try:
        sentiments = analyzer.analyze([item["text"] for item in usable])
        by_row = {
            item["row"]: ItemResult.analysed(item, sentiment, analyzer.engine)
            for item, sentiment in zip(usable, sentiments, strict=True)
        }
    except AnalysisUnavailable:
        raise
    except Exception as exc:
        # One text the engine cannot handle must not sink its neighbours: retry one by one.
        logger.warning("chunk analysis failed; analysing items one by one", extra=failure_fields(exc))
        by_row = {item["row"]: _analyse_one(item, analyzer) for item in usable}
    results = []
    for item in message.items:
        if "text" in item:
            results.append(by_row[item["row"]])
        else:
            error = item.get("error") or {}
            results.append(ItemResult.failed(item, error.get("code", "invalid-row"), error.get("detail", "")))
    return results


def _analyse_one(item: dict, analyzer: Analyzer) -> ItemResult:
    try:
        (sentiment,) = analyzer.analyze([item["text"]])
    except AnalysisUnavailable:
        raise
    except Exception:
        return ItemResult.failed(item, "analysis-failed", f"the {analyzer.engine} engine could not analyse this item")
    return ItemResult.analysed(item, sentiment, analyzer.engine)


def store_and_count(
    message: WorkMessage,
    results: list[ItemResult],
    *,
    tasks: TaskRepository,
    store: ResultStore,
    finalizer: FinalizeQueue,
    correlation_id: str | None = None,
) -> ChunkOutcome:
    """Write this attempt's part, then count the chunk once; ask for finalization when complete.

    The part goes to a key of its own and the counting update names it, so a losing duplicate
    can never overwrite the results that were counted."""
    failed = sum(1 for result in results if result.error is not None)
    processed = len(results) - failed
    attempt = secrets.token_hex(4)
    store.put_part(message.tenant, message.task_id, message.chunk, attempt, results)
    task = tasks.record_chunk(
        message.tenant, message.task_id, chunk=message.chunk, attempt=attempt, processed=processed, failed=failed
    )
    counted = task is not None
    if task is None:
        # Already counted (a redelivery) or the task has ended. A redelivery may still owe the
        # task its finalization request if the earlier attempt died right after counting.
        task = tasks.get(message.tenant, message.task_id)
    completed = task is not None and task.needs_finalizing
    if completed:
        finalizer.request(message.tenant, message.task_id, correlation_id)
    if counted:
        metrics.add_metric(name="ItemsAnalysed", unit=MetricUnit.Count, value=processed)
        metrics.add_metric(name="ItemsFailed", unit=MetricUnit.Count, value=failed)
    return ChunkOutcome(counted=counted, processed=processed, failed=failed, completed=completed)


def process_chunk(
    message: WorkMessage,
    *,
    analyzer: Analyzer,
    tasks: TaskRepository,
    store: ResultStore,
    finalizer: FinalizeQueue,
    correlation_id: str | None = None,
) -> ChunkOutcome:
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
    results = analyse_items(message, analyzer)
    outcome = store_and_count(
        message, results, tasks=tasks, store=store, finalizer=finalizer, correlation_id=correlation_id
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
        },
    )
    return outcome
