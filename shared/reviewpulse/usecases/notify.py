"""A task reached a terminal status: announce it with one event on the stack's event bus.

The event comes from the tasks table's DynamoDB stream (a transactional outbox): the write that
ends a task is the event's source, so the event exists exactly when the state does, whichever
function won that write, and however long the bus is unavailable (the stream keeps the record for
24 hours and delivers it again until the bus takes it). The stream delivers at least once, so the
put is idempotent: keyed on the event id (the tenant, the task and its terminal status), a record
delivered again after its event was put sends nothing.

The detail holds no customer text, no presigned URL and no secret: counts, the summary in numbers,
the error code, and API paths to fetch the rest with the tenant's own key.
"""

from __future__ import annotations

import hashlib
from typing import Any, Protocol

from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer, IdempotencyConfig, idempotent_function

from reviewpulse.observability import logger
from reviewpulse.tasks.model import Task, TaskStatus
from reviewpulse.tasks.table import task_from_item

DETAIL_TYPES = {
    TaskStatus.READY: "Task Ready",
    TaskStatus.ERROR: "Task Failed",
    TaskStatus.CANCELLED: "Task Cancelled",
}
# The version of the detail's shape: fields are added, never renamed or removed.
SCHEMA_VERSION = "1"
# How long a put event is remembered: longer than the stream keeps a record (24 hours), so no
# redelivery of it can outlive its memory.
REMEMBER_SECONDS = 48 * 3600


class EventSink(Protocol):
    def put(self, detail_type: str, detail: dict[str, Any]) -> None: ...


def event_id(task: Task) -> str:
    digest = hashlib.sha256(f"{task.tenant}\n{task.task_id}\n{task.status.value}".encode()).hexdigest()
    return f"evt_{digest[:32]}"


def task_ended_event(task: Task) -> tuple[str, dict[str, Any]]:
    """The detail-type and detail of the event for a task in a terminal status."""
    if task.status not in DETAIL_TYPES:
        raise ValueError(f"task {task.task_id} is {task.status.value}, not in a terminal status")
    base = f"/v1/tasks/{task.task_id}"
    detail: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "event_id": event_id(task),
        "task_id": task.task_id,
        "tenant": task.tenant,
        "type": task.type.value,
        "status": task.status.value,
        "created_at": task.created_at.isoformat(),
        "ended_at": task.updated_at.isoformat(),
        "counts": task.progress.model_dump(),
        "summary": task.summary.model_dump() if task.summary is not None else None,
        "error": task.error.model_dump() if task.error is not None else None,
        "links": {"task": base, "results": f"{base}/results", "insights": f"{base}/insights"},
    }
    return DETAIL_TYPES[task.status], detail


def ended_task(old_image: dict[str, Any] | None, new_image: dict[str, Any] | None) -> Task | None:
    """The task a stream record shows ending (its new image in a terminal status, its old one
    not in that status, or none), else None: other writes, and writes to a task already ended."""
    if not new_image or new_image.get("status", {}).get("S") not in {s.value for s in DETAIL_TYPES}:
        return None
    if old_image and old_image.get("status", {}).get("S") == new_image["status"]["S"]:
        return None
    return task_from_item(new_image)


def publish_task_ended(
    task: Task, *, sink: EventSink, store: BasePersistenceLayer, lambda_context: Any | None = None
) -> bool:
    """Put the task's event once: True if put now, False if an earlier delivery put it already.
    A put that fails raises (the stream record fails, and is delivered again)."""
    detail_type, detail = task_ended_event(task)
    config = IdempotencyConfig(event_key_jmespath="event_id", expires_after_seconds=REMEMBER_SECONDS)
    if lambda_context is not None:
        config.register_lambda_context(lambda_context)
    sent: list[str] = []

    @idempotent_function(data_keyword_argument="event", persistence_store=store, config=config)
    def put_once(event: dict[str, Any]) -> dict[str, str]:
        sink.put(detail_type, detail)
        sent.append(event["event_id"])
        return {"event_id": event["event_id"]}

    put_once(event={"event_id": detail["event_id"]})
    if not sent:
        logger.info("event already put; redelivered stream record ignored", extra={"event_id": detail["event_id"]})
    return bool(sent)


def publish_stream_record(
    record: dict[str, Any], *, sink: EventSink, store: BasePersistenceLayer, lambda_context: Any | None = None
) -> bool:
    """One record of the tasks table's stream: its task's event if the record ends the task."""
    images = record.get("dynamodb") or {}
    task = ended_task(images.get("OldImage"), images.get("NewImage"))
    if task is None:
        return False
    return publish_task_ended(task, sink=sink, store=store, lambda_context=lambda_context)
