"""A task reached a terminal status: announce it with one event on the stack's event bus.

The event is sent by whoever won the task's conditional move to `ready`, `error` or `cancelled`
(the task repository calls `announce_task_ended` with the task as that write left it), so one
transition is one event even when the message that caused it is delivered twice: the second
delivery loses the condition and sends nothing. The event id is derived from the tenant, the task
and its terminal status, so should the same event ever be sent again (a webhook delivery retried),
it carries the same id for the receiver's de-duplication.

The detail holds no customer text, no presigned URL and no secret: counts, the summary in numbers,
the error code, and API paths to fetch the rest with the tenant's own key.
"""

from __future__ import annotations

import hashlib
from typing import Any, Protocol

from reviewpulse.observability import MetricUnit, logger, metrics
from reviewpulse.tasks.model import Task, TaskStatus

DETAIL_TYPES = {
    TaskStatus.READY: "Task Ready",
    TaskStatus.ERROR: "Task Failed",
    TaskStatus.CANCELLED: "Task Cancelled",
}
# The version of the detail's shape: fields are added, never renamed or removed.
SCHEMA_VERSION = "1"


class EventSink(Protocol):
    def put(self, detail_type: str, detail: dict[str, Any]) -> bool: ...


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


def announce_task_ended(task: Task, sink: EventSink) -> bool:
    """Send the task's event. The transition has been won already and stands whatever happens
    here: a bus that stays unreachable through the client's retries costs the event (logged and
    counted as EventsUndelivered), never the task's status nor a redelivery of its message."""
    detail_type, detail = task_ended_event(task)
    try:
        return sink.put(detail_type, detail)
    except Exception as exc:  # an AWS client error or an unreachable endpoint, after retries
        logger.error(
            "event not delivered to the bus",
            extra={"event_id": detail["event_id"], "task_id": task.task_id, "error_type": type(exc).__name__},
        )
        metrics.add_metric(name="EventsUndelivered", unit=MetricUnit.Count, value=1)
        return False
