"""Creating a batch task: what POST /v1/batches does, free of HTTP. The file itself goes straight
to S3 by a presigned POST; its arrival starts the split."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from reviewpulse.analysis.options import AnalysisOptions
from reviewpulse.errors import UnsupportedFormat
from reviewpulse.ingest.formats import FileFormat, format_names
from reviewpulse.observability import MetricUnit, metrics
from reviewpulse.settings import Settings
from reviewpulse.storage.inputs import InputFiles
from reviewpulse.storage.layout import upload_key
from reviewpulse.tasks.model import Task, TaskStatus, TaskType
from reviewpulse.tasks.repository import TaskRepository
from reviewpulse.usecases.resolve_options import engine_notes

_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Upload:
    url: str
    fields: dict[str, str]
    expires_at: datetime
    max_bytes: int


@dataclass(frozen=True)
class NewBatch:
    """Command: a batch task for a file the client will upload (POST /v1/batches), with its
    options already resolved."""

    tenant: str
    filename: str
    file_format: str | None
    text_field: str | None
    id_field: str | None
    options: AnalysisOptions
    correlation_id: str | None


@dataclass(frozen=True)
class BatchCreation:
    """The create-batch function's collaborators (wiring.batch_creation builds them)."""

    tasks: TaskRepository
    input_files: InputFiles
    settings: Settings


def create_batch_task(command: NewBatch, deps: BatchCreation) -> tuple[Task, Upload]:
    """Record the task and presign its upload."""
    tenant, correlation_id, options, settings = command.tenant, command.correlation_id, command.options, deps.settings
    safe_name = safe_filename(command.filename)
    resolved = _resolve_format(safe_name, command.file_format)
    task = Task.new(
        tenant,
        TaskType.BATCH,
        TaskStatus.ACCEPTED,
        ttl_days=settings.task_ttl_days,
        correlation_id=correlation_id,
        filename=safe_name,
        format=resolved.value,
        text_field=command.text_field,
        id_field=command.id_field,
        options=options,
        notes=engine_notes(options, settings),
    )
    deps.tasks.create(task)
    url, fields, expires_at = deps.input_files.presigned_upload(
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
            raise UnsupportedFormat(f"format is not one of {format_names()}") from None
    detected = FileFormat.from_filename(filename)
    if detected is None:
        detail = f"give `format` ({format_names()}): it cannot be told from the file name"
        raise UnsupportedFormat(detail)
    return detected
