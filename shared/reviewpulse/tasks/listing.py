"""A tenant's tasks a page at a time, with signed cursors bound to the tenant and the filters."""

from __future__ import annotations

from dataclasses import dataclass

from reviewpulse.cursors import CursorSigner
from reviewpulse.tasks.model import Task, TaskStatus
from reviewpulse.tasks.repository import TaskRepository


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
