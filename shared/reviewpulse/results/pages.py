"""Reading merged results a page at a time, with opaque cursors."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from reviewpulse.errors import InvalidCursor, NotFound, TaskNotReady
from reviewpulse.results.model import ItemResult
from reviewpulse.results.store import ResultStore
from reviewpulse.tasks.model import Task, TaskStatus


@dataclass(frozen=True)
class ResultsPage:
    items: list[ItemResult]
    next_cursor: str | None


def read_results_page(task: Task, store: ResultStore, *, limit: int, cursor: str | None) -> ResultsPage:
    if task.status is not TaskStatus.READY or not task.results_key:
        raise TaskNotReady(f"task is {task.status.value}; results exist once it is ready")
    offset = _decode(cursor, task.task_id) if cursor else 0
    lines, next_offset = store.read_lines(task.results_key, offset=offset, limit=limit)
    items = [ItemResult.model_validate_json(line) for line in lines]
    return ResultsPage(items, _encode(task.task_id, next_offset) if next_offset is not None else None)


def _encode(task_id: str, offset: int) -> str:
    raw = json.dumps({"t": task_id, "o": offset}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, task_id: str) -> int:
    try:
        data = json.loads(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidCursor("the cursor is not one this API returned") from None
    if not isinstance(data, dict) or data.get("t") != task_id:
        raise InvalidCursor("the cursor belongs to another task")
    offset = data.get("o")
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise InvalidCursor("the cursor is not one this API returned")
    return offset


def require_task(task: Task | None) -> Task:
    if task is None:
        raise NotFound("no such task")
    return task
