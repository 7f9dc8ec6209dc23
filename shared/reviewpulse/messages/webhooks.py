"""The webhook queue's kinds: task events from the bus's rule, and the deliveries they fan out to."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Discriminator, Field, Tag, TypeAdapter

from reviewpulse.messages import Lenient
from reviewpulse.webhooks.queue import DeliveryJob


class TaskEvent(Lenient):
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
