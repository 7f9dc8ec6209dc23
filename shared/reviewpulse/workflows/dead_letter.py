"""A chunk that kept failing: its items count as failed, so the task still ends."""

from __future__ import annotations

from reviewpulse.observability import logger
from reviewpulse.queues import WorkMessage
from reviewpulse.results.model import ItemResult
from reviewpulse.results.store import ResultStore
from reviewpulse.settings import Settings
from reviewpulse.tasks.model import Task, TaskError
from reviewpulse.tasks.repository import TaskRepository
from reviewpulse.workflows.chunks import ChunkOutcome, store_and_count
from reviewpulse.workflows.finalize import finalize_task

DEAD_LETTER_DETAIL = "this item's chunk failed repeatedly and was set aside"


def settle_dead_chunk(
    message: WorkMessage, *, tasks: TaskRepository, store: ResultStore, settings: Settings
) -> ChunkOutcome:
    task = tasks.get(message.tenant, message.task_id)
    if task is None or task.status.is_terminal:
        return ChunkOutcome(counted=False, processed=0, failed=0, finalized=False)
    if message.chunk in task.done_chunks:
        # The chunk was counted, then finalizing kept failing: try once more, else end the task.
        try:
            finalized = task.needs_finalizing and finalize_task(task, tasks=tasks, store=store, settings=settings)
        except Exception:
            _end_unfinalizable(tasks, task)
            finalized = False
        return ChunkOutcome(counted=False, processed=0, failed=0, finalized=finalized)
    results = [_dead(item) for item in message.items]
    logger.warning(
        "chunk dead-lettered",
        extra={"tenant": message.tenant, "task_id": message.task_id, "chunk": message.chunk, "items": len(results)},
    )
    try:
        return store_and_count(message, results, tasks=tasks, store=store, settings=settings)
    except Exception:
        latest = tasks.get(message.tenant, message.task_id)
        if latest is None or message.chunk not in latest.done_chunks:
            raise  # not counted yet: a transient failure, let SQS deliver it again
        _end_unfinalizable(tasks, latest)
        return ChunkOutcome(counted=True, processed=0, failed=len(results), finalized=False)


def _end_unfinalizable(tasks: TaskRepository, task: Task) -> None:
    logger.exception("finalization failed from the dead-letter queue", extra={"task_id": task.task_id})
    tasks.mark_error(
        task.tenant,
        task.task_id,
        TaskError(code="finalization-failed", detail="the results could not be merged; see the logs"),
    )


def _dead(item: dict) -> ItemResult:
    if "error" in item:  # already a per-row error from the splitter: keep its reason
        return ItemResult.failed(item, item["error"].get("code", "invalid-row"), item["error"].get("detail", ""))
    return ItemResult.failed(item, "dead-lettered", DEAD_LETTER_DETAIL)
