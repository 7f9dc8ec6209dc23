"""DELETE /v1/tasks/{task_id}: stop a task, and on request forget everything it stored."""

from __future__ import annotations

from reviewpulse.errors import ReviewPulseError
from reviewpulse.observability import logger
from reviewpulse.storage.inputs import InputFiles
from reviewpulse.storage.result_files import ResultFiles
from reviewpulse.tasks.model import Task, TaskStatus
from reviewpulse.tasks.repository import TaskRepository
from reviewpulse.usecases import deliver_drop


class TaskFinished(ReviewPulseError):
    code, status, title = "task-finished", 409, "Task has already finished"


def cancel_task(task: Task, *, tasks: TaskRepository) -> Task:
    """A running task becomes `cancelled`; its chunks still on the queue are skipped. Cancelling a
    cancelled task changes nothing; a finished one cannot be cancelled (it can be purged)."""
    if task.status is TaskStatus.CANCELLED:
        return task
    cancelled = tasks.mark_cancelled(task.tenant, task.task_id)
    if cancelled is None:
        latest = tasks.get(task.tenant, task.task_id)
        if latest is not None and latest.status is TaskStatus.CANCELLED:
            return latest
        raise TaskFinished(f"task is {latest.status.value if latest else 'gone'}; purge it to delete its data")
    logger.info("task cancelled", extra={"tenant": task.tenant, "task_id": task.task_id})
    return cancelled


def purge_task(task: Task, *, tasks: TaskRepository, input_files: InputFiles, result_files: ResultFiles) -> int:
    """Cancel if running, then delete the upload, the results and the record. Files dropped by
    other systems under incoming/ are theirs and stay; their outgoing/ copies go."""
    if not task.status.is_terminal:
        tasks.mark_cancelled(task.tenant, task.task_id)
    deleted = input_files.delete_upload(task.tenant, task.task_id)
    deleted += result_files.delete_results(task.tenant, task.task_id)
    deleted += deliver_drop.task_purged(task, result_files)
    tasks.delete(task.tenant, task.task_id)
    logger.info("task purged", extra={"tenant": task.tenant, "task_id": task.task_id, "objects": deleted})
    return deleted
