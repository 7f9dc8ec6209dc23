"""The caller's tenant, as established by the API Gateway Lambda authorizer.

The authorizer's context arrives in the proxy event (requestContext.authorizer.tenant); no
client header can set it, so a forged tenant header changes nothing.
"""

from __future__ import annotations

from fastapi import Request, Security
from fastapi.security import APIKeyHeader

from reviewpulse.errors import Unauthorized

# Declared so the OpenAPI document shows the X-Api-Key scheme; the authorizer has already
# checked the key by the time a function runs.
api_key_header = APIKeyHeader(name="X-Api-Key", auto_error=False, description="Your tenant's API key")


def caller_tenant(request: Request, _key: str | None = Security(api_key_header)) -> str:
    event = request.scope.get("aws.event") or {}
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    tenant = authorizer.get("tenant")
    if not isinstance(tenant, str) or not tenant:
        raise Unauthorized("this endpoint needs an API key in the X-Api-Key header")
    return tenant


def request_id(request: Request) -> str | None:
    event = request.scope.get("aws.event") or {}
    return (event.get("requestContext") or {}).get("requestId")
