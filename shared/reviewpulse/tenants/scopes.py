"""What an API key may do: its scopes, as the authorizer hands them to every function.

Three scopes, none implying another (a key may hold several):

- `read`    — tasks, results, insights (and reports, which are part of insights);
- `analyze` — create tasks and batches, `POST /v1/analyze`, start, resume and cancel or purge;
- `admin`   — webhooks, budgets, models, erasure of the tenant's data.

A key stored before scopes existed has no `scopes` attribute: it keeps all three (it could do
everything before; taking power away silently would break its holder)."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Scope(StrEnum):
    READ = "read"
    ANALYZE = "analyze"
    ADMIN = "admin"


ALL_SCOPES: frozenset[Scope] = frozenset(Scope)


def parse_scopes(names: Iterable[str]) -> frozenset[Scope]:
    """The scopes named (`read`, `analyze`, `admin`); ValueError for any other name or none."""
    found = set()
    for name in names:
        cleaned = name.strip().lower()
        if not cleaned:
            continue
        try:
            found.add(Scope(cleaned))
        except ValueError:
            raise ValueError(f"unknown scope {name.strip()!r}: use {', '.join(s.value for s in Scope)}") from None
    if not found:
        raise ValueError(f"name at least one scope: {', '.join(s.value for s in Scope)}")
    return frozenset(found)


def scopes_text(scopes: Iterable[Scope]) -> str:
    """Space-separated, in a stable order (API Gateway hands context values on as strings)."""
    return " ".join(scope.value for scope in Scope if scope in set(scopes))


def scopes_of_context(value: object) -> frozenset[Scope]:
    """The scopes an authorizer context names. None (no `scopes` in the context: an answer cached
    from before scopes existed, for a key that then held everything) is all of them; any value
    that does not parse is none (fail closed)."""
    if value is None:
        return ALL_SCOPES
    if not isinstance(value, str):
        return frozenset()
    try:
        return parse_scopes(value.split())
    except ValueError:
        return frozenset()
