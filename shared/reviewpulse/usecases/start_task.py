"""POST /v1/tasks/{task_id}/start: run a quoted task, on the file it was quoted on."""

from __future__ import annotations

from reviewpulse.errors import TaskNotQuoted
from reviewpulse.observability import logger
from reviewpulse.queues import IngestQueue
from reviewpulse.tasks.model import Task, TaskStatus
from reviewpulse.tasks.repository import TaskRepository


def start_task(task: Task, *, tasks: TaskRepository, ingest: IngestQueue, correlation_id: str | None) -> Task:
    """quoted → queued, and the file is split again (by the splitter, from the ingest queue), now
    for real. Idempotent: starting a started task answers it as it is, and asks for its split again
    while that has not happened (a lost request; the splitter splits a file once)."""
    if task.quote is None:
        if task.options.quote_only and task.status in (TaskStatus.ACCEPTED, TaskStatus.QUEUED):
            raise TaskNotQuoted(f"task is {task.status.value}: its quote is not ready yet")
        raise TaskNotQuoted(f"task is {task.status.value} and has no quote: only a quote_only batch is started")
    if task.status is TaskStatus.QUOTED:
        started = tasks.start_quoted(task.tenant, task.task_id)
        task = started or tasks.get(task.tenant, task.task_id) or task
        if started is not None:
            logger.info("quoted task started", extra={"tenant": task.tenant, "task_id": task.task_id})
    if task.status is TaskStatus.QUEUED and task.chunk_count is None:
        ingest.request_split(task.tenant, task.task_id, correlation_id or task.correlation_id)
    return task
