"""The Idempotency-Key header of the create endpoints, and answer_once: without a key, no idempotency
code is loaded; with one, api/idempotency.py (Powertools records in DynamoDB) answers it once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Header, Request
from pydantic import BaseModel

Output = TypeVar("Output", bound=BaseModel)

IdempotencyKeyHeader = Header(
    default=None,
    alias="Idempotency-Key",
    # No length limit here: a schema limit would answer 422 validation-error, where any key outside
    # 1 to 128 allowed characters is 400 invalid-idempotency-key (api.idempotency.check_key).
    description=(
        "Send the same key again (with the same body) to get the first answer back, not a second task. "
        "1 to 128 of A-Z a-z 0-9 _ . : - (any other key is 400 invalid-idempotency-key)."
    ),
)


def answer_once(
    request: Request,
    *,
    tenant: str,
    key: str | None,
    operation: str,
    body: BaseModel,
    output_model: type[Output],
    produce: Callable[[], Output],
    store: Callable[[], Any],
    keep_seconds: int | None = None,
) -> Output:
    """`store` builds the idempotency records' persistence layer; it is called only when the
    request carries a key."""
    if key is None:
        return produce()
    # Imported here: only the create endpoints pay for Powertools idempotency, and only when used.
    from reviewpulse.api.idempotency import KEEP_SECONDS, IdempotentCall, check_key, once

    call = IdempotentCall(tenant=tenant, key=check_key(key), operation=operation, body=body.model_dump(mode="json"))
    return once(
        call,
        output_model,
        produce,
        store=store(),
        lambda_context=request.scope.get("aws.context"),
        keep_seconds=keep_seconds or KEEP_SECONDS,
    )
