"""A dropped file talks back: beside its results in outgoing/, one small receipt says how it ended.

- `<path>.done.json` when its task is ready: task id, counts, the files delivered. Written last,
  after every delivered file, so a consumer can wait for this one object.
- `<path>.error.json` when its task ended in error or was cancelled (code, detail, task id), and
  when the drop was refused before any task was made (tenant unknown, prefix not a tenant name):
  then `task_id` is null.

Receipts of tasks are written where the task's end is won (the task repository's `on_ended`, see
wiring), so every way a drop can end writes one: the splitter, the finalizer, dead letters, the
sweeper and cancellation alike.
"""

from __future__ import annotations

import json
from typing import Any

from reviewpulse.observability import MetricUnit, logger, metrics
from reviewpulse.storage.layout import (
    OUTGOING,
    SourceObject,
    delivered_keys,
    fits_in_a_key,
    parse_source_key,
    receipt_keys,
    refused_receipt_key,
)
from reviewpulse.storage.result_files import ResultFiles
from reviewpulse.tasks.model import Task, TaskStatus, TaskType

# Codes of drops refused before a task exists (they appear only in error receipts).
UNKNOWN_TENANT = "unknown-tenant"
INVALID_TENANT = "invalid-tenant"
INVALID_PATH = "invalid-path"


def _name(source: SourceObject, key: str) -> str:
    """A delivered file's name relative to the drop's outgoing/<tenant>/ folder."""
    return key.removeprefix(f"{OUTGOING}/{source.tenant}/")


def receipt_of(task: Task, source: SourceObject) -> tuple[str, dict[str, Any]]:
    """The key and body of the receipt of a drop's task in a terminal status."""
    done_key, error_key = receipt_keys(source)
    base: dict[str, Any] = {
        "task_id": task.task_id,
        "status": task.status.value,
        "source": source.key,
        "source_etag": task.source_etag,
        "counts": task.progress.model_dump(),
        "ended_at": task.updated_at.isoformat(),
    }
    if task.status is TaskStatus.READY:
        conversations = task.summary is not None and task.summary.conversations is not None
        files = [_name(source, key) for key in delivered_keys(source, conversations=conversations)]
        return done_key, {**base, "files": files}
    if task.error is not None:
        return error_key, {**base, "code": task.error.code, "detail": task.error.detail}
    return error_key, {**base, "code": "cancelled", "detail": "the task was cancelled by its owner"}


def write_drop_receipt(task: Task, result_files: ResultFiles) -> bool:
    """Write the receipt of a drop's task that just ended; nothing for other tasks. The task's end
    stands whatever happens here: a receipt S3 keeps refusing is logged and counted."""
    if task.type is not TaskType.DROP or not task.source_key or not task.status.is_terminal:
        return False
    source = parse_source_key(task.source_key)
    if source is None or not source.clean:
        return False  # no task is made for such a drop: it was refused with a receipt
    key, body = receipt_of(task, source)
    return _put(result_files, key, body, task.task_id)


def refuse_drop(
    source: SourceObject, code: str, detail: str, result_files: ResultFiles, *, tenant_is_valid: bool
) -> bool:
    """A drop no task is made for: its error receipt, if its key can be written (False if not);
    beside the drop in a valid tenant's clean folder, else in outgoing/_refused/ (see layout)."""
    key = refused_receipt_key(source, tenant_is_valid=tenant_is_valid)
    if not fits_in_a_key(key):
        logger.warning("drop refused; its receipt's key would be too long to write", extra={"code": code})
        return False
    body = {"task_id": None, "status": "refused", "source": source.key, "code": code, "detail": detail}
    return _put(result_files, key, body, None)


def _put(result_files: ResultFiles, key: str, body: dict[str, Any], task_id: str | None) -> bool:
    if not fits_in_a_key(key):
        logger.warning("drop receipt not written: its key would be too long", extra={"task_id": task_id})
        return False
    try:
        result_files.put_json(key, json.dumps(body, ensure_ascii=False).encode(), task_id=task_id)
    except Exception as exc:  # an AWS client error after its retries; the task's end stands
        logger.error("drop receipt not written", extra={"task_id": task_id, "error_type": type(exc).__name__})
        metrics.add_metric(name="DropReceiptsUnwritten", unit=MetricUnit.Count, value=1)
        return False
    return True
