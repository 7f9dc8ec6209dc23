"""Every router of api/routes, and the table of their scopes read from them.

Imports every route module: the OpenAPI document, `make openapi` and the drift tests use it; a
function, which serves one router, never does."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from fastapi import APIRouter

from reviewpulse.api import routes
from reviewpulse.api.scopes import Scope, UndeclaredRoute, route_scopes


def _routers() -> tuple[APIRouter, ...]:
    """Every router of api/routes (one module per route, each with its `router`): a new route's
    module is documented without being listed here; test_openapi holds them to the template."""
    modules = sorted(module.name for module in pkgutil.iter_modules(routes.__path__))
    return tuple(importlib.import_module(f"{routes.__name__}.{name}").router for name in modules)


ROUTERS = _routers()


@cache
def route_scope_table() -> dict[tuple[str, str], Scope | None]:
    """(method, path) → the scope it needs (None: public), for every route of ROUTERS."""
    return route_scopes(ROUTERS)


ROUTE_SCOPES = route_scope_table()


def required_scope(method: str, path: str) -> Scope | None:
    """The scope a route needs (None: public). HEAD is answered as GET is."""
    method = "GET" if method.upper() == "HEAD" else method.upper()
    try:
        return ROUTE_SCOPES[(method, path)]
    except KeyError:
        raise UndeclaredRoute(f"{method} {path}") from None
