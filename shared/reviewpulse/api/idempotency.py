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

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import PydanticSerializer
from pydantic import BaseModel

from reviewpulse.aws import client
from reviewpulse.errors import ReviewPulseError, ValidationFailed
from reviewpulse.settings import get_settings

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


_registered_context: list[Any] = []


def register_lambda_context(context: Any) -> None:
    """Lets Powertools expire an in-progress record when the function times out."""
    _registered_context[:] = [context] if context is not None else []


def check_key(value: str) -> str:
    if not IDEMPOTENCY_KEY_PATTERN.match(value):
        raise InvalidIdempotencyKey("Idempotency-Key is 1 to 128 letters, digits, '_', '.', ':' or '-'")
    return value


def once(
    call: IdempotentCall, output_model: type[Output], produce: Callable[[], Output], keep_seconds: int = KEEP_SECONDS
) -> Output:
    """produce() the first time; the stored output for a retry of the same call, for
    `keep_seconds` (a batch's answer holds a presigned POST: no longer than that lives)."""
    config = _config(keep_seconds)
    for context in _registered_context:
        config.register_lambda_context(context)
    try:
        return _guarded(output_model, keep_seconds)(call=call, produce=produce)
    except IdempotencyValidationError:
        raise IdempotencyKeyReused("this Idempotency-Key was used with a different request body") from None
    except IdempotencyAlreadyInProgressError:
        raise IdempotencyInProgress("retry once the first request with this Idempotency-Key has answered") from None


@cache
def _guarded(output_model: type[BaseModel], keep_seconds: int) -> Callable[..., Any]:
    persistence = DynamoDBPersistenceLayer(
        table_name=get_settings().idempotency_table_name, boto3_client=client("dynamodb")
    )

    @idempotent_function(
        data_keyword_argument="call",
        persistence_store=persistence,
        config=_config(keep_seconds),
        output_serializer=PydanticSerializer(model=output_model),
    )
    def guarded(call: IdempotentCall, produce: Callable[[], BaseModel]) -> BaseModel:
        return produce()

    return guarded
