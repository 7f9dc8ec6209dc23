"""Creating a single-text task: what POST /v1/tasks does, free of HTTP."""

from __future__ import annotations

from dataclasses import dataclass

from reviewpulse.analysis.engines.base import EngineParts
from reviewpulse.analysis.engines.registry import engine_for
from reviewpulse.analysis.options import AnalysisOptions
from reviewpulse.errors import TooLarge, ValidationFailed
from reviewpulse.observability import MetricUnit, metrics
from reviewpulse.queues import WorkItem, WorkMessage, WorkQueue
from reviewpulse.settings import Settings
from reviewpulse.tasks.model import Task, TaskError, TaskStatus, TaskType
from reviewpulse.tasks.repository import TaskRepository
from reviewpulse.usecases.resolve_options import engine_notes


@dataclass(frozen=True)
class TaskQueueing:
    """The collaborators of the routes that queue a text task (POST /v1/tasks, and POST /v1/analyze
    when it cannot answer at once), built by wiring.task_queueing."""

    tasks: TaskRepository
    queue: WorkQueue
    settings: Settings


@dataclass(frozen=True)
class NewText:
    """Command: a task of one text (POST /v1/tasks), with its options already resolved."""

    tenant: str
    text: str
    client_id: str | None
    options: AnalysisOptions
    correlation_id: str | None


@dataclass(frozen=True)
class NewChunkTask:
    """Command: a text task whose items fit one work message."""

    tenant: str
    items: list[WorkItem]
    options: AnalysisOptions
    correlation_id: str | None


def create_text_task(command: NewText, deps: TaskQueueing) -> Task:
    text, settings = command.text, deps.settings
    if not text.strip():
        raise ValidationFailed("text must not be empty")
    if len(text) > settings.max_text_chars:
        raise TooLarge(f"text has {len(text)} characters; the maximum is {settings.max_text_chars}")
    item = WorkItem(row=1, id=command.client_id or "1", text=text)
    return queue_one_chunk_task(NewChunkTask(command.tenant, [item], command.options, command.correlation_id), deps)


def queue_one_chunk_task(command: NewChunkTask, deps: TaskQueueing) -> Task:
    """A text task whose items fit one work message (a single text, or POST /v1/analyze's texts
    when they cannot be answered at once), created and queued; one the queue refuses ends in error."""
    tenant, items, options, correlation_id = command.tenant, command.items, command.options, command.correlation_id
    tasks, queue, settings = deps.tasks, deps.queue, deps.settings
    task = Task.new(
        tenant,
        TaskType.TEXT,
        TaskStatus.QUEUED,
        ttl_days=settings.task_ttl_days,
        correlation_id=correlation_id,
        options=options,
        notes=engine_notes(options, settings),
        chunk_count=1,
    )
    task.progress.total = len(items)
    tasks.create(task)
    message = WorkMessage(tenant=tenant, task_id=task.task_id, chunk=0, items=items)
    engine = engine_for(options, EngineParts(settings))
    try:
        queue.send([message], correlation_id, llm_queue=engine.uses_llm_queue)
    except Exception:
        tasks.mark_error(
            tenant, task.task_id, TaskError(code="queue-unavailable", detail="the task could not be queued")
        )
        raise
    metrics.add_metric(name="TasksCreated", unit=MetricUnit.Count, value=1)
    return task
