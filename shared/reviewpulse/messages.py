"""What the queues carry, as types: each queue a function reads that carries more than one kind of
message has one discriminated union here, parsed once at the handler's edge. Handlers dispatch on
the parsed type and never look for keys in a body.

A body that is none of its queue's kinds is rejected by `read_message`: logged once with where it
failed (never its values: a body carries customer text) and acknowledged, since no redelivery
could make it readable; it is not retried forever.

Why hand-written S3 models, not Powertools' parser S3Model: that one requires every field of AWS's
own notifications (userIdentity, requestParameters, ...), which not every sender of the ingest
queue's events writes (moto's emulated notifications leave some out); the splitter reads four.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, TypeAdapter, ValidationError

from reviewpulse.observability import logger, safe_validation_errors
from reviewpulse.queues import FinalizeRequest, SplitRequest, WorkMessage
from reviewpulse.webhooks.queue import DeliveryJob

T = TypeVar("T")


class _Lenient(BaseModel):
    """AWS adds fields to its events over time: those a handler does not read are ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


# -- the ingest queue: S3 notifications, S3's test event, and quoted tasks' split requests ----------


class S3ObjectRef(_Lenient):
    key: str  # URL-encoded, as S3 writes it (spaces as "+"): decode with unquote_plus
    sequencer: str | None = None


class S3Entity(_Lenient):
    object: S3ObjectRef


class S3Record(_Lenient):
    event_source: Literal["aws:s3"] = Field(alias="eventSource")
    event_time: str | None = Field(default=None, alias="eventTime")
    response_elements: dict[str, Any] | None = Field(default=None, alias="responseElements")
    s3: S3Entity

    @property
    def request_id(self) -> str | None:
        """S3's request id: the correlation id of a drop whose object carries none of its own."""
        return (self.response_elements or {}).get("x-amz-request-id")


class S3Notification(_Lenient):
    """Objects created under the upload and drop prefixes (S3 → the ingest queue, or bare)."""

    records: list[S3Record] = Field(alias="Records", min_length=1)


class S3TestEvent(_Lenient):
    """What S3 sends once when a notification is set up: nothing to split."""

    event: Literal["s3:TestEvent"] = Field(alias="Event")


def _ingest_kind(body: Any) -> str | None:
    if isinstance(body, dict):
        if "split_task" in body:
            return "split"
        if "Records" in body:
            return "s3"
        if "Event" in body:
            return "s3-test"
    return None


IngestMessage = Annotated[
    Annotated[S3Notification, Tag("s3")]
    | Annotated[S3TestEvent, Tag("s3-test")]
    | Annotated[SplitRequest, Tag("split")],
    Discriminator(_ingest_kind),
]
INGEST_MESSAGES: TypeAdapter[IngestMessage] = TypeAdapter(IngestMessage)


# -- the webhook queue: task events from the bus's rule, and the deliveries they fan out to --------


class TaskEvent(_Lenient):
    """A task event as the bus's rule delivers it (the EventBridge envelope)."""

    detail_type: str = Field(alias="detail-type")
    detail: dict[str, Any]


def _webhook_kind(body: Any) -> str | None:
    if isinstance(body, dict):
        if "detail-type" in body:
            return "event"
        if "webhook_id" in body:
            return "delivery"
    return None


WebhookMessage = Annotated[
    Annotated[TaskEvent, Tag("event")] | Annotated[DeliveryJob, Tag("delivery")],
    Discriminator(_webhook_kind),
]
WEBHOOK_MESSAGES: TypeAdapter[WebhookMessage] = TypeAdapter(WebhookMessage)


# -- the dead-letter queue of the work and finalize queues -----------------------------------------


def _dead_letter_kind(body: Any) -> str | None:
    if isinstance(body, dict):
        return "chunk" if "chunk" in body else "finalize" if "task_id" in body else None
    return None


DeadLetter = Annotated[
    Annotated[WorkMessage, Tag("chunk")] | Annotated[FinalizeRequest, Tag("finalize")],
    Discriminator(_dead_letter_kind),
]
DEAD_LETTERS: TypeAdapter[DeadLetter] = TypeAdapter(DeadLetter)


def read_message(
    messages: TypeAdapter[T], body: str | dict[str, Any], *, queue: str, message_id: str | None
) -> T | None:
    """The message, parsed as one of its queue's kinds; None (logged once, no value of it) when it
    is none of them, for the caller to acknowledge: no redelivery could make it readable."""
    try:
        return messages.validate_json(body) if isinstance(body, str) else messages.validate_python(body)
    except ValidationError as exc:
        problems = [{"loc": e["loc"], "type": e["type"]} for e in safe_validation_errors(exc.errors())][:5]
        logger.error(
            "message of no known kind rejected",
            extra={"queue": queue, "message_id": message_id, "problems": problems},
        )
        return None


# -- Secrets Manager's rotation of the cursor signing secret -----------------------------------------


class SecretRotationStep(_Lenient):
    """One step of a secret's rotation, as Secrets Manager invokes the rotation function with it."""

    step: Literal["createSecret", "setSecret", "testSecret", "finishSecret"] = Field(alias="Step")
    secret_id: str = Field(alias="SecretId")
    token: str = Field(alias="ClientRequestToken")
