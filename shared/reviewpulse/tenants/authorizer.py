"""What the API Gateway REQUEST authorizer decides: which tenant, if any, owns a key."""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
    APIGatewayAuthorizerResponse,
)

from reviewpulse.observability import logger
from reviewpulse.tenants.keys import KeyRepository
from reviewpulse.tenants.scopes import scopes_text

API_KEY_HEADER = "x-api-key"


class Denied(Exception):
    """API Gateway answers 401 when a REQUEST authorizer fails with the message `Unauthorized`."""

    def __init__(self, message: str = "Unauthorized") -> None:
        super().__init__(message)


def authorize(event: APIGatewayAuthorizerRequestEvent, keys: KeyRepository) -> dict:
    headers = {name.lower(): value for name, value in (event.headers or {}).items()}
    key = headers.get(API_KEY_HEADER, "")
    record = keys.find(key) if key else None
    # Unknown, revoked and expired keys alike: 401, telling a guesser nothing about which.
    if record is None or not record.usable():
        # One line, never the key: a refused key is an answer (401), not a failure.
        reason = (
            "no key"
            if not key
            else "unknown key"
            if record is None
            else "revoked key"
            if not record.active
            else "expired key"
        )
        logger.info("API key refused", extra={"reason": reason})
        raise Denied()
    arn = event.parsed_arn
    response = APIGatewayAuthorizerResponse(
        principal_id=record.tenant,
        region=arn.region,
        aws_account_id=arn.aws_account_id,
        api_id=arn.api_id,
        stage=arn.stage,
        # What each function checks itself (reviewpulse.api.auth): the route's scope against
        # `scopes`, and `expires_at` again, since API Gateway caches this answer for 300 s.
        context={
            "tenant": record.tenant,
            "key_id": record.key_id,
            "scopes": scopes_text(record.scopes),
            **({"expires_at": record.expires_at} if record.expires_at else {}),
        },
        usage_identifier_key=record.usage_key,
    )
    # One policy for every route of the stage: API Gateway caches it per key.
    response.allow_all_routes()
    return response.asdict()
