"""Creating tasks: what POST /v1/tasks and POST /v1/batches do, free of HTTP."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from reviewpulse.analysis.options import AnalysisOptions
from reviewpulse.errors import EngineUnavailable, TooLarge, UnsupportedFormat, ValidationFailed
from reviewpulse.ingest.formats import FileFormat
from reviewpulse.observability import MetricUnit, metrics
from reviewpulse.queues import WorkMessage, WorkQueue
from reviewpulse.results.store import ResultStore, upload_key
from reviewpulse.settings import Settings
from reviewpulse.tasks.model import Task, TaskError, TaskStatus, TaskType, new_task_id, now, ttl_epoch
from reviewpulse.tasks.repository import TaskRepository

_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Upload:
    url: str
    fields: dict[str, str]
    expires_at: datetime
    max_bytes: int


def resolve_options(engine: str | None, aspects: list[str], report: bool, settings: Settings) -> AnalysisOptions:
    """The options a task keeps: the deployment's default engine unless one is named."""
    chosen = engine or settings.default_engine
    if chosen == "llm" and not settings.llm_configured:
        raise EngineUnavailable("the llm engine is not configured in this deployment; use lexicon")
    return AnalysisOptions(engine=chosen, aspects=aspects, report=report)


def create_text_task(
    tenant: str,
    text: str,
    client_id: str | None,
    *,
    options: AnalysisOptions,
    correlation_id: str | None,
    tasks: TaskRepository,
    queue: WorkQueue,
    settings: Settings,
) -> Task:
    if not text.strip():
        raise ValidationFailed("text must not be empty")
    if len(text) > settings.max_text_chars:
        raise TooLarge(f"text has {len(text)} characters; the maximum is {settings.max_text_chars}")
    created_at = now()
    task = Task(
        tenant=tenant,
        task_id=new_task_id(),
        type=TaskType.TEXT,
        status=TaskStatus.QUEUED,
        created_at=created_at,
        updated_at=created_at,
        correlation_id=correlation_id,
        options=options,
        chunk_count=1,
        expires_at=ttl_epoch(created_at, settings.task_ttl_days),
    )
    task.progress.total = 1
    tasks.create(task)
    message = WorkMessage(
        tenant=tenant, task_id=task.task_id, chunk=0, items=[{"row": 1, "id": client_id or "1", "text": text}]
    )
    try:
        queue.send([message], correlation_id, engine=options.engine)
    except Exception:
        tasks.mark_error(
            tenant, task.task_id, TaskError(code="queue-unavailable", detail="the task could not be queued")
        )
        raise
    metrics.add_metric(name="TasksCreated", unit=MetricUnit.Count, value=1)
    return task


def create_batch_task(
    tenant: str,
    filename: str,
    file_format: str | None,
    text_field: str | None,
    id_field: str | None,
    *,
    options: AnalysisOptions,
    correlation_id: str | None,
    tasks: TaskRepository,
    store: ResultStore,
    settings: Settings,
) -> tuple[Task, Upload]:
    safe_name = safe_filename(filename)
    resolved = _resolve_format(safe_name, file_format)
    created_at = now()
    task = Task(
        tenant=tenant,
        task_id=new_task_id(),
        type=TaskType.BATCH,
        status=TaskStatus.ACCEPTED,
        created_at=created_at,
        updated_at=created_at,
        correlation_id=correlation_id,
        filename=safe_name,
        format=resolved.value,
        text_field=text_field,
        id_field=id_field,
        options=options,
        expires_at=ttl_epoch(created_at, settings.task_ttl_days),
    )
    tasks.create(task)
    url, fields, expires_at = store.presigned_upload(
        upload_key(tenant, task.task_id, safe_name),
        max_bytes=settings.max_upload_bytes,
        expires_in=settings.upload_url_ttl_seconds,
        metadata={"correlation-id": correlation_id} if correlation_id else {},
    )
    metrics.add_metric(name="TasksCreated", unit=MetricUnit.Count, value=1)
    return task, Upload(url=url, fields=fields, expires_at=expires_at, max_bytes=settings.max_upload_bytes)


def safe_filename(filename: str) -> str:
    """The file's base name with anything but letters, digits, dot, dash and underscore replaced."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE_FILENAME.sub("_", base).strip("._") or "upload"
    return cleaned[-200:]


def _resolve_format(filename: str, declared: str | None) -> FileFormat:
    if declared is not None:
        try:
            return FileFormat(declared.lower())
        except ValueError:
            # The value is not echoed: it is the client's input, of any length.
            raise UnsupportedFormat("format is not one of csv, json, jsonl, txt, conversations") from None
    detected = FileFormat.from_filename(filename)
    if detected is None:
        detail = "give `format` (csv, json, jsonl, txt or conversations): it cannot be told from the file name"
        raise UnsupportedFormat(detail)
    return detected
