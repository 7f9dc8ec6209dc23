"""The scope each route needs: ONE table, read by every function (reviewpulse.api.auth checks the
caller's key against it before the route runs) and by the OpenAPI document (each operation's
security requirement names it). tests/unit/test_scopes.py holds it to the routers of api/routes
(exactly their routes), to the template's routes and to openapi.json; tests/local/test_scopes_http.py
sends every route with every scope. It stays a table, not a field of each route, so that the scopes
of the whole API read in one place (a review of who may do what is a review of this file).

Adding a route is one line here. A route missing from the table is refused to every key."""

from __future__ import annotations

from reviewpulse.tenants.scopes import Scope

PUBLIC = None  # a route without the API key (the template sets Authorizer: NONE on it)

ROUTE_SCOPES: dict[tuple[str, str], Scope | None] = {
    ("GET", "/health"): PUBLIC,
    ("GET", "/v1/tasks"): Scope.READ,
    ("GET", "/v1/tasks/{task_id}"): Scope.READ,
    ("GET", "/v1/tasks/{task_id}/results"): Scope.READ,
    ("GET", "/v1/tasks/{task_id}/insights"): Scope.READ,
    ("POST", "/v1/tasks"): Scope.ANALYZE,
    ("POST", "/v1/batches"): Scope.ANALYZE,
    ("POST", "/v1/analyze"): Scope.ANALYZE,
    ("POST", "/v1/tasks/{task_id}/start"): Scope.ANALYZE,
    ("POST", "/v1/tasks/{task_id}/resume"): Scope.ANALYZE,
    # Cancel or purge: who submits work may stop it; a read-only dashboard may not delete.
    ("DELETE", "/v1/tasks/{task_id}"): Scope.ANALYZE,
    ("POST", "/v1/webhooks"): Scope.ADMIN,
    ("GET", "/v1/webhooks"): Scope.ADMIN,
    ("DELETE", "/v1/webhooks/{webhook_id}"): Scope.ADMIN,
    ("POST", "/v1/webhooks/{webhook_id}/rotate-secret"): Scope.ADMIN,
    ("DELETE", "/v1/tenant/data"): Scope.ADMIN,
    # Tenant models: reading them is reading; training, deleting and the default change what
    # every later task of the tenant answers, so they are the admin's.
    ("GET", "/v1/models"): Scope.READ,
    ("GET", "/v1/models/{model_id}"): Scope.READ,
    ("POST", "/v1/models"): Scope.ADMIN,
    ("DELETE", "/v1/models/{model_id}"): Scope.ADMIN,
    ("PUT", "/v1/models/default"): Scope.ADMIN,
}


class UndeclaredRoute(LookupError):
    """A route with no line in ROUTE_SCOPES."""


def required_scope(method: str, path: str) -> Scope | None:
    """The scope a route needs (None: public). HEAD is answered as GET is."""
    method = "GET" if method.upper() == "HEAD" else method.upper()
    try:
        return ROUTE_SCOPES[(method, path)]
    except KeyError:
        raise UndeclaredRoute(f"{method} {path}") from None
