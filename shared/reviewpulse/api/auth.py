"""The caller's tenant, as established by the API Gateway Lambda authorizer, and whether its key
may call this route.

The authorizer's context arrives in the proxy event (requestContext.authorizer); no client header
can set it, so a forged tenant header changes nothing. Every route that names its tenant through
`caller_tenant` is checked here against the one scope table (reviewpulse.api.scopes), so a route
cannot forget its check.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import Request, Security
from fastapi.security import APIKeyHeader

from reviewpulse.api.scopes import UndeclaredRoute, required_scope
from reviewpulse.clock import now
from reviewpulse.errors import InsufficientScope, Unauthorized
from reviewpulse.tenants.scopes import scopes_of_context

# Declared so the OpenAPI document shows the X-Api-Key scheme; the authorizer has already
# checked the key by the time a function runs.
api_key_header = APIKeyHeader(name="X-Api-Key", auto_error=False, description="Your tenant's API key")


def caller_tenant(request: Request, _key: str | None = Security(api_key_header)) -> str:
    event = request.scope.get("aws.event") or {}
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    tenant = authorizer.get("tenant")
    if not isinstance(tenant, str) or not tenant:
        raise Unauthorized("this endpoint needs an API key in the X-Api-Key header")
    # API Gateway caches the authorizer's answer for 300 s: a key that expired since is refused here.
    if _expired(authorizer.get("expires_at")):
        raise Unauthorized("this API key has expired")
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    try:
        needed = required_scope(request.method, path) if path else None
    except UndeclaredRoute:
        raise InsufficientScope("this route declares no scope, so no key may call it") from None
    if path is None or (needed is not None and needed not in scopes_of_context(authorizer.get("scopes"))):
        raise InsufficientScope(f"this API key lacks the {needed or 'needed'} scope this route needs")
    return tenant


def _expired(value: object) -> bool:
    if value is None:
        return False
    try:
        return datetime.fromisoformat(str(value)) <= now()
    except ValueError:
        return True  # not a time the authorizer wrote: refuse rather than guess


def request_id(request: Request) -> str | None:
    event = request.scope.get("aws.event") or {}
    return (event.get("requestContext") or {}).get("requestId")
