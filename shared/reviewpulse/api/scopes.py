"""The scope each route needs, as a table read from the routes themselves.

Each route declares its scope once, where its tenant comes in (`tenant: str = scoped(Scope.READ)`,
reviewpulse.api.auth); a route that takes no tenant is public (the template sets Authorizer: NONE
on it). `route_scopes(routers)` reads the declarations back, so the whole API's scopes still read
in one place: `api/routers.py: ROUTE_SCOPES` (every router of api/routes), which tests/unit/test_scopes.py holds
to the template's routes and to openapi.json, and tests/local/test_scopes_http.py sends with every
scope. A route whose tenant declares no scope is refused to every key."""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import APIRouter
from fastapi.routing import APIRoute

from reviewpulse.tenants.scopes import Scope

PUBLIC = None  # a route without the API key


class UndeclaredRoute(LookupError):
    """A route that is not in the table (no router serves it), or whose tenant declares no scope."""


def route_scope(route: APIRoute) -> Scope | None:
    """The scope a route's tenant parameter declares; PUBLIC if it takes no tenant."""
    from reviewpulse.api.auth import caller_tenant

    declared = [
        dependency.own_oauth_scopes or []
        for dependency in route.dependant.dependencies
        if dependency.call is caller_tenant
    ]
    if not declared:
        return PUBLIC
    if len(declared) != 1 or len(declared[0]) != 1:
        raise UndeclaredRoute(f"{sorted(route.methods)} {route.path} declares no single scope")
    return Scope(declared[0][0])


def route_scopes(routers: Iterable[APIRouter]) -> dict[tuple[str, str], Scope | None]:
    """(method, path) → the scope it needs, for every route of `routers`."""
    return {
        (method, route.path): route_scope(route)
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods
    }
