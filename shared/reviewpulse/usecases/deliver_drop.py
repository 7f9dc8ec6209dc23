"""Drop delivery: everything a dropped file gets back in outgoing/, one entry point per event.

- `results_ready(task, files)`: the finalizer wrote a drop's results, insights and report; their
  copies go beside the drop's path (`<path>.results.jsonl`, `.results.csv`, `.conversations.jsonl`
  for chat files, `.insights.json`, `.report.html`). Called before the task's end is won, so a
  finalizer that dies after it is redelivered and copies again (each copy is the same object).
- `task_ended(task, files)`: a drop's task reached a terminal status; its one receipt is written,
  `<path>.done.json` when ready (task id, counts, the files delivered: written last, after every
  delivered file, so a consumer can wait for this one object), else `<path>.error.json` (code,
  detail, task id). Called where the task's end is won (the task repository's `on_ended`, see
  wiring), so every way a drop can end writes one: the splitter, the finalizer, dead letters, the
  sweeper and cancellation alike.
- `drop_refused(refusal, files)`: no task is made for the drop (tenant unknown, prefix not a tenant
  name, path unsafe); its error receipt has `task_id` null.
- `task_purged(task, files)`: a purged drop's copies and receipt go, unless a newer drop at the
  same path wrote them.

Each entry point decides with `delivery_of`/`receipt_of` (pure, tested as a table in
tests/unit/test_deliver_drop.py) and writes through `ResultFiles`, whose copies and receipts record
the task that wrote them. The task's end stands whatever happens here: a receipt S3 keeps refusing
is logged and counted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from reviewpulse.observability import MetricUnit, logger, metrics
from reviewpulse.storage.layout import (
    OUTGOING,
    SourceObject,
    conversations_key,
    delivered_keys,
    fits_in_a_key,
    insights_key,
    outgoing_insights_key,
    outgoing_keys,
    outgoing_report_key,
    parse_source_key,
    receipt_keys,
    refused_receipt_key,
    report_key,
    results_keys,
)
from reviewpulse.storage.result_files import ResultFiles
from reviewpulse.tasks.model import Task, TaskStatus, TaskType

# Codes of drops refused before a task exists (they appear only in error receipts).
UNKNOWN_TENANT = "unknown-tenant"
INVALID_TENANT = "invalid-tenant"
INVALID_PATH = "invalid-path"

INSIGHTS_TYPE = "application/json"
REPORT_TYPE = "text/html; charset=utf-8"


@dataclass(frozen=True)
class DropRefused:
    """Event: a drop no task is made for. `tenant_is_valid` says whether its receipt may go beside
    it in the tenant's folder (else outgoing/_refused/, see storage.layout)."""

    source: SourceObject
    code: str
    detail: str
    tenant_is_valid: bool


@dataclass(frozen=True)
class Copy:
    """One file delivered to outgoing/: from the task's own object to the drop's copy."""

    source_key: str
    target_key: str
    content_type: str | None = None


def drop_source(task: Task) -> SourceObject | None:
    """The dropped file a task delivers to, or None: not a drop, or a drop no task answers for
    in outgoing/ (an unclean path is refused before a task exists)."""
    if task.type is not TaskType.DROP or not task.source_key:
        return None
    source = parse_source_key(task.source_key)
    return source if source is not None and source.clean else None


def delivery_of(task: Task, source: SourceObject, *, conversations: bool) -> list[Copy]:
    """The copies a ready drop's task delivers, in the order they are written."""
    jsonl, csv = results_keys(task.tenant, task.task_id)
    out_jsonl, out_csv, out_conversations = outgoing_keys(source)
    copies = [Copy(jsonl, out_jsonl), Copy(csv, out_csv)]
    if conversations:
        copies.append(Copy(conversations_key(task.tenant, task.task_id), out_conversations))
    copies.append(Copy(insights_key(task.tenant, task.task_id), outgoing_insights_key(source), INSIGHTS_TYPE))
    copies.append(Copy(report_key(task.tenant, task.task_id), outgoing_report_key(source), REPORT_TYPE))
    return copies


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
        files = [_name(source, copy.target_key) for copy in delivery_of(task, source, conversations=conversations)]
        return done_key, {**base, "files": files}
    if task.error is not None:
        return error_key, {**base, "code": task.error.code, "detail": task.error.detail}
    return error_key, {**base, "code": "cancelled", "detail": "the task was cancelled by its owner"}


def results_ready(task: Task, files: ResultFiles, *, conversations: bool) -> int:
    """Copy a drop's results, insights and report to outgoing/ (nothing for other tasks); the
    number of copies made. Errors propagate: the finalizer is retried before the task is ready."""
    source = drop_source(task)
    if source is None:
        return 0
    copies = delivery_of(task, source, conversations=conversations)
    for copy in copies:
        files.copy(copy.source_key, copy.target_key, task_id=task.task_id, content_type=copy.content_type)
    return len(copies)


def task_ended(task: Task, files: ResultFiles) -> bool:
    """Write the receipt of a drop's task that just ended; nothing for other tasks."""
    source = drop_source(task)
    if source is None or not task.status.is_terminal:
        return False
    key, body = receipt_of(task, source)
    return _put(files, key, body, task.task_id)


def drop_refused(refusal: DropRefused, files: ResultFiles) -> bool:
    """A drop no task is made for: its error receipt, if its key can be written (False if not);
    beside the drop in a valid tenant's clean folder, else in outgoing/_refused/ (see layout)."""
    source = refusal.source
    key = refused_receipt_key(source, tenant_is_valid=refusal.tenant_is_valid)
    if not fits_in_a_key(key):
        logger.warning("drop refused; its receipt's key would be too long to write", extra={"code": refusal.code})
        return False
    body = {"task_id": None, "status": "refused", "source": source.key, "code": refusal.code, "detail": refusal.detail}
    return _put(files, key, body, None)


def task_purged(task: Task, files: ResultFiles) -> int:
    """Delete a purged drop's outgoing copies (every file a ready drop delivers, insights and report
    included) and receipts; the number deleted. Files dropped by other systems under incoming/ are
    theirs and stay."""
    if task.type is not TaskType.DROP or not task.source_key:
        return 0
    source = parse_source_key(task.source_key)
    if source is None:
        return 0
    deleted = 0
    for key in (*delivered_keys(source, conversations=True), *receipt_keys(source)):
        # A newer drop at the same path owns the copy now: leave its results alone.
        deleted += files.delete_if_written_by(key, task.task_id)
    return deleted


def _put(files: ResultFiles, key: str, body: dict[str, Any], task_id: str | None) -> bool:
    if not fits_in_a_key(key):
        logger.warning("drop receipt not written: its key would be too long", extra={"task_id": task_id})
        return False
    try:
        files.put_json(key, json.dumps(body, ensure_ascii=False).encode(), task_id=task_id)
    except Exception as exc:  # an AWS client error after its retries; the task's end stands
        logger.error("drop receipt not written", extra={"task_id": task_id, "error_type": type(exc).__name__})
        metrics.add_metric(name="DropReceiptsUnwritten", unit=MetricUnit.Count, value=1)
        return False
    return True
