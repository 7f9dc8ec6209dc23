"""Reading merged results a page at a time, with opaque cursors."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from reviewpulse.cursors import decode_cursor, encode_cursor
from reviewpulse.errors import InvalidCursor, TaskNotReady
from reviewpulse.results.model import ItemResult
from reviewpulse.results.store import ResultStore
from reviewpulse.tasks.model import Task, TaskStatus

# A page stops short of `limit` items once their results reach this size, so that a page of items
# with many aspects and long evidence stays well inside Lambda's 6 MB response limit.
PAGE_MAX_BYTES = 4_000_000


@dataclass(frozen=True)
class ResultsPage:
    items: list[ItemResult]
    next_cursor: str | None


def read_results_page(task: Task, store: ResultStore, *, limit: int, cursor: str | None) -> ResultsPage:
    if task.status is not TaskStatus.READY or not task.results_key:
        raise TaskNotReady(f"task is {task.status.value}; results exist once it is ready")
    offset = _decode(cursor, task.task_id) if cursor is not None else 0
    lines, next_offset = store.read_lines(task.results_key, offset=offset, limit=limit, max_bytes=PAGE_MAX_BYTES)
    try:
        items = [ItemResult.model_validate_json(line) for line in lines]
    except ValidationError:
        # An offset this API never handed out lands mid-line.
        raise InvalidCursor("the cursor is not one this API returned") from None
    return ResultsPage(items, _encode(task.task_id, next_offset) if next_offset is not None else None)


def _encode(task_id: str, offset: int) -> str:
    return encode_cursor({"t": task_id, "o": offset})


def _decode(cursor: str, task_id: str) -> int:
    values = decode_cursor(cursor)
    if set(values) != {"t", "o"} or values["t"] != task_id:
        raise InvalidCursor("the cursor belongs to another task")
    offset = values["o"]
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise InvalidCursor("the cursor is not one this API returned")
    return offset
