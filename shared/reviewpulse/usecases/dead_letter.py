"""What to do with messages that kept failing, so that every task still ends.

- A chunk from the work queue's DLQ: its items count as failed (rows the splitter had already
  rejected keep their own error), exactly once, like any other attempt at that chunk.
- A finalize request from the finalize queue's DLQ: the results could not be merged; the task
  ends in `error` with `finalization-failed`.
"""

from __future__ import annotations

from dataclasses import dataclass

from reviewpulse.observability import logger
from reviewpulse.queues import FinalizeRequest, WorkItem, WorkMessage
from reviewpulse.results.model import ItemResult
from reviewpulse.tasks.model import TaskError
from reviewpulse.tasks.repository import TaskRepository
from reviewpulse.usecases.analyze_chunk import ChunkOutcome, CountChunk, Counting, store_and_count

DEAD_LETTER_DETAIL = "this item's chunk failed repeatedly and was set aside"


@dataclass(frozen=True)
class SettleDeadChunk:
    """Command: count a dead-lettered chunk's items as failed, exactly once."""

    message: WorkMessage
    correlation_id: str | None = None


def settle_dead_chunk(command: SettleDeadChunk, counting: Counting) -> ChunkOutcome:
    """The chunk counted as any attempt at it is (usecases/analyze_chunk.py: store_and_count)."""
    message = command.message
    results = [_dead(item) for item in message.items]
    logger.warning(
        "chunk dead-lettered",
        extra={"tenant": message.tenant, "task_id": message.task_id, "chunk": message.chunk, "items": len(results)},
    )
    return store_and_count(CountChunk(message, results, command.correlation_id), counting)


def settle_dead_finalize(request: FinalizeRequest, *, tasks: TaskRepository) -> bool:
    logger.error("finalization kept failing", extra={"tenant": request.tenant, "task_id": request.task_id})
    return tasks.mark_error(
        request.tenant,
        request.task_id,
        TaskError(code="finalization-failed", detail="the results could not be merged; see the logs"),
    )


def _dead(item: WorkItem) -> ItemResult:
    if item.error is not None:  # already a per-row error from the splitter: keep its reason
        return ItemResult.failed(item, item.error.code, item.error.detail)
    return ItemResult.failed(item, "dead-lettered", DEAD_LETTER_DETAIL)
