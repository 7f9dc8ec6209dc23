"""Responses a page at a time: a task's merged results and a tenant's task list, each continued by
a signed cursor bound to the tenant and the listing it came from."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from reviewpulse.cursors import CursorSigner
from reviewpulse.errors import InvalidCursor, TaskNotReady
from reviewpulse.results.model import ItemResult
from reviewpulse.storage.result_files import NotALineStart, ResultFiles
from reviewpulse.tasks.model import Task, TaskStatus
from reviewpulse.tasks.repository import TaskRepository

# A page stops short of `limit` items once their results reach this size, so that a page of items
# with many aspects and long evidence stays well inside Lambda's 6 MB response limit.
PAGE_MAX_BYTES = 4_000_000


@dataclass(frozen=True)
class ResultsPage:
    items: list[ItemResult]
    next_cursor: str | None


def results_offset(task: Task, signer: CursorSigner, cursor: str | None) -> int:
    """Where a results page starts: task-not-ready unless the task is ready, invalid-cursor unless
    the cursor is one this API issued for this task's results. Cheap (no storage read): the API
    checks it before answering a conditional request."""
    if task.status is not TaskStatus.READY or not task.results_key:
        raise TaskNotReady(f"task is {task.status.value}; results exist once it is ready")
    listing = results_listing(task.task_id)
    return _offset(signer.open(cursor, tenant=task.tenant, listing=listing)) if cursor is not None else 0


def read_results_page(
    task: Task, result_files: ResultFiles, signer: CursorSigner, *, limit: int, cursor: str | None
) -> ResultsPage:
    offset = results_offset(task, signer, cursor)
    listing = results_listing(task.task_id)
    # A signed offset is one this API issued; still, a line that does not start there or does not
    # parse (a key leak, a rewritten file) is the cursor's fault, never a 500.
    try:
        lines, next_offset = result_files.read_lines(
            task.results_key or "", offset=offset, limit=limit, max_bytes=PAGE_MAX_BYTES
        )
        items = [ItemResult.model_validate_json(line) for line in lines]
    except (NotALineStart, ValidationError):
        raise InvalidCursor("the cursor is not one this API returned for this listing") from None
    next_cursor = (
        signer.issue(tenant=task.tenant, listing=listing, position=next_offset) if next_offset is not None else None
    )
    return ResultsPage(items, next_cursor)


def results_listing(task_id: str) -> str:
    return f"results:{task_id}"


def _offset(position: object) -> int:
    if not isinstance(position, int) or isinstance(position, bool) or position < 0:
        raise InvalidCursor("the cursor is not one this API returned for this listing")
    return position


@dataclass(frozen=True)
class TasksPage:
    items: list[Task]
    next_cursor: str | None


def list_tasks_page(
    tasks: TaskRepository,
    signer: CursorSigner,
    tenant: str,
    *,
    status: TaskStatus | None,
    limit: int,
    cursor: str | None,
) -> TasksPage:
    listing = tasks_listing(status)
    start = signer.open(cursor, tenant=tenant, listing=listing) if cursor is not None else None
    found, last = tasks.list(tenant, status=status, limit=limit, start=start)
    next_cursor = signer.issue(tenant=tenant, listing=listing, position=last) if last is not None else None
    return TasksPage(found, next_cursor)


def tasks_listing(status: TaskStatus | None) -> str:
    """The listing a task-list cursor continues: its filters (today, the status or none)."""
    return f"tasks:status={status.value if status is not None else '*'}"
