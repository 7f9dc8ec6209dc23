"""The caller's tenant, as established by the API Gateway Lambda authorizer, and whether its key
may call this route.

The authorizer's context arrives in the proxy event (requestContext.authorizer); no client header
can set it, so a forged tenant header changes nothing. A route names its tenant through
`scoped(Scope.X)`, which declares the scope its key needs once, on the route itself: FastAPI
writes it into the route's OpenAPI security requirement, and `caller_tenant` checks the caller's
key against it before the route runs. A route that takes its tenant without a scope is refused to
every key. The table of every route's scope is read from the routes (reviewpulse.api.scopes).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import Request, Security
from fastapi.security import APIKeyHeader, SecurityScopes

from reviewpulse.clock import now
from reviewpulse.errors import InsufficientScope, Unauthorized
from reviewpulse.tenants.scopes import Scope, scopes_of_context

# Declared so the OpenAPI document shows the X-Api-Key scheme; the authorizer has already
# checked the key by the time a function runs.
api_key_header = APIKeyHeader(name="X-Api-Key", auto_error=False, description="Your tenant's API key")


async def caller_tenant(
    request: Request, security_scopes: SecurityScopes, _key: str | None = Security(api_key_header)
) -> str:
    """The caller's tenant, once its key is known to hold the scope the route declared. Async only
    so that FastAPI calls it on its event loop, not on a worker thread (it reads the event and
    waits for nothing): see api/dependencies.py, on_the_loop."""
    event = request.scope.get("aws.event") or {}
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    tenant = authorizer.get("tenant")
    if not isinstance(tenant, str) or not tenant:
        raise Unauthorized("this endpoint needs an API key in the X-Api-Key header")
    # API Gateway caches the authorizer's answer for 300 s: a key that expired since is refused here.
    if _expired(authorizer.get("expires_at")):
        raise Unauthorized("this API key has expired")
    if len(security_scopes.scopes) != 1:
        raise InsufficientScope("this route declares no scope, so no key may call it")
    needed = Scope(security_scopes.scopes[0])
    if needed not in scopes_of_context(authorizer.get("scopes")):
        raise InsufficientScope(f"this API key lacks the {needed} scope this route needs")
    return tenant


def scoped(scope: Scope) -> Any:
    """A route's tenant parameter that needs `scope`: `tenant: str = scoped(Scope.READ)`."""
    return Security(caller_tenant, scopes=[scope.value])


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
