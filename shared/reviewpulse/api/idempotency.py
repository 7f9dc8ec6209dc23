"""Client retries of the create endpoints: the same Idempotency-Key and body give the same
answer once, within a day; the same key with another body is refused.

Powertools idempotency with DynamoDB persistence does the bookkeeping (in-progress records,
expiry, payload validation); keys are scoped by tenant and endpoint, so two tenants can use
the same key.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer, IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import PydanticSerializer
from pydantic import BaseModel

from reviewpulse.errors import ReviewPulseError, ValidationFailed

IDEMPOTENCY_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
KEEP_SECONDS = 24 * 3600

Output = TypeVar("Output", bound=BaseModel)


class IdempotencyKeyReused(ReviewPulseError):
    code, status, title = "idempotency-key-reused", 409, "Idempotency-Key already used for another request"


class IdempotencyInProgress(ReviewPulseError):
    code, status, title = "idempotency-in-progress", 409, "A request with this Idempotency-Key is still running"


class InvalidIdempotencyKey(ValidationFailed):
    code, status, title = "invalid-idempotency-key", 400, "Idempotency-Key is not valid"


class IdempotentCall(BaseModel):
    tenant: str
    key: str
    operation: str
    body: dict[str, Any]


@cache
def _config(keep_seconds: int) -> IdempotencyConfig:
    return IdempotencyConfig(
        event_key_jmespath="[tenant, operation, key]",
        payload_validation_jmespath="body",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=keep_seconds,
    )


def check_key(value: str) -> str:
    if not IDEMPOTENCY_KEY_PATTERN.match(value):
        raise InvalidIdempotencyKey("Idempotency-Key is 1 to 128 letters, digits, '_', '.', ':' or '-'")
    return value


def once(
    call: IdempotentCall,
    output_model: type[Output],
    produce: Callable[[], Output],
    *,
    store: BasePersistenceLayer,
    lambda_context: Any | None,
    keep_seconds: int = KEEP_SECONDS,
) -> Output:
    """produce() the first time; the stored output for a retry of the same call, for
    `keep_seconds` (a batch's answer holds a presigned POST: no longer than that lives). The
    Lambda context, where there is one, lets Powertools expire an in-progress record when the
    function times out."""
    config = _config(keep_seconds)
    if lambda_context is not None:
        config.register_lambda_context(lambda_context)

    @idempotent_function(
        data_keyword_argument="call",
        persistence_store=store,
        config=config,
        output_serializer=PydanticSerializer(model=output_model),
    )
    def guarded(call: IdempotentCall) -> Output:
        return produce()

    try:
        return guarded(call=call)
    except IdempotencyValidationError:
        raise IdempotencyKeyReused("this Idempotency-Key was used with a different request body") from None
    except IdempotencyAlreadyInProgressError:
        raise IdempotencyInProgress("retry once the first request with this Idempotency-Key has answered") from None
