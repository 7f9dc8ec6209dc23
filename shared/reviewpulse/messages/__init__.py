"""What the queues carry, as types: each queue a function reads that carries more than one kind of
message has one discriminated union here, parsed once at the handler's edge. Handlers dispatch on
the parsed type and never look for keys in a body.

One module per queue (ingest, webhooks, dead_letters) and the rotation event, so that a
function loads only its own queue's models (the webhook function never loads the task model).

A body that is none of its queue's kinds is rejected by `read_message`: logged once with where it
failed (never its values: a body carries customer text) and acknowledged, since no redelivery
could make it readable; it is not retried forever.

Why hand-written S3 models, not Powertools' parser S3Model: that one requires every field of AWS's
own notifications (userIdentity, requestParameters, ...), which not every sender of the ingest
queue's events writes (moto's emulated notifications leave some out); the splitter reads four.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from reviewpulse.observability import logger, safe_validation_errors

T = TypeVar("T")


class Lenient(BaseModel):
    """AWS adds fields to its events over time: those a handler does not read are ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


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
