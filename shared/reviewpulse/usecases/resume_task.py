"""POST /v1/tasks/{task_id}/resume: continue a task its budget paused, once the budget allows."""

from __future__ import annotations

from dataclasses import dataclass

from reviewpulse.analysis.engines.base import EngineParts
from reviewpulse.analysis.engines.registry import engine_for
from reviewpulse.clock import now
from reviewpulse.errors import BudgetStillExhausted, TaskNotPaused
from reviewpulse.observability import logger
from reviewpulse.queues import WorkMessage, WorkQueue
from reviewpulse.settings import Settings
from reviewpulse.storage.paused_chunks import PausedChunks
from reviewpulse.tasks.model import Task, TaskStatus
from reviewpulse.tasks.repository import TaskRepository
from reviewpulse.tenants.budgets import BudgetRepository, month_of, to_micros


@dataclass(frozen=True)
class ResumeTask:
    """Command: resume `task` (the caller's, as read), raising its own budget to `max_cost_usd` first."""

    task: Task
    max_cost_usd: float | None
    correlation_id: str | None


@dataclass(frozen=True)
class Resuming:
    """POST .../resume's collaborators (wiring.resuming builds them)."""

    tasks: TaskRepository
    budgets: BudgetRepository
    paused_chunks: PausedChunks
    queue: WorkQueue
    settings: Settings


def resume_task(command: ResumeTask, deps: Resuming) -> Task:
    """paused → processing, and its parked chunks go back on the work queue. `max_cost_usd`
    raises the task's own budget first. Refused (409 budget-exhausted) while a budget that applies
    has nothing left; resuming a running task answers it as it is (idempotent)."""
    task, max_cost_usd, correlation_id = command.task, command.max_cost_usd, command.correlation_id
    tasks, budgets, paused_chunks, queue, settings = (
        deps.tasks,
        deps.budgets,
        deps.paused_chunks,
        deps.queue,
        deps.settings,
    )
    if task.status in (TaskStatus.QUEUED, TaskStatus.PROCESSING) and task.paused_reason is None:
        _send_parked(task, tasks, paused_chunks, queue, settings, correlation_id)  # a resume cut short
        return task
    if task.status is not TaskStatus.PAUSED:
        raise TaskNotPaused(f"task is {task.status.value}; only a paused task is resumed")
    if max_cost_usd is not None:
        if max_cost_usd <= task.spend_settled_micros / 1_000_000:
            raise BudgetStillExhausted("max_cost_usd must be more than the task has spent already")
        tasks.spend.raise_limit(task.tenant, task.task_id, max_cost_usd)
    # Room for at least the request a budget refused, so that the task does not pause again at once.
    needs = max(1, task.paused_needs_micros)
    limit = max_cost_usd if max_cost_usd is not None else task.options.max_cost_usd
    if limit is not None and to_micros(limit) - task.spend_committed_micros < needs:
        raise BudgetStillExhausted(
            f"the task has spent {task.spend_settled_micros / 1_000_000:.6f} of its max_cost_usd {limit}; "
            "resume with a higher max_cost_usd"
        )
    month = budgets.month(task.tenant, month_of(now()))
    if month.limit_micros is not None and month.limit_micros - month.committed_micros < needs:
        raise BudgetStillExhausted(
            f"the tenant's monthly budget for {month.month} is spent; raise it (reviewpulse tenants budget) "
            "or resume next month"
        )
    resumed = tasks.resume_paused(task.tenant, task.task_id)
    if resumed is None:
        latest = tasks.get(task.tenant, task.task_id)
        if latest is None or latest.status is TaskStatus.PAUSED:
            raise TaskNotPaused("the task changed while it was resumed; try again")
        return latest
    sent = _send_parked(resumed, tasks, paused_chunks, queue, settings, correlation_id)
    logger.info("task resumed", extra={"tenant": task.tenant, "task_id": task.task_id, "chunks": sent})
    return resumed


def _send_parked(
    task: Task,
    tasks: TaskRepository,
    paused_chunks: PausedChunks,
    queue: WorkQueue,
    settings: Settings,
    correlation_id: str | None,
) -> int:
    """Every parked chunk back on its work queue, then out of the bucket: sent twice (a crash
    between), it is still counted once."""
    parked = paused_chunks.parked(task.tenant, task.task_id)
    if not parked:
        return 0
    engine = engine_for(task.options, EngineParts(settings))
    messages = [WorkMessage.model_validate_json(body) for _, body in parked]
    queue.send(messages, correlation_id or task.correlation_id, llm_queue=engine.uses_llm_queue)
    for key, _ in parked:
        paused_chunks.remove(key)
    return len(parked)
