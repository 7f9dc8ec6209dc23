"""The OpenAPI document of the whole API, generated from the same routers the functions deploy."""

from __future__ import annotations

from typing import Any

from reviewpulse.api.app import build_app
from reviewpulse.api.routers import ROUTERS, route_scope_table

__all__ = ["ROUTERS", "openapi_document"]


# Where the API is: a deployed stage (its ApiUrl output) or the local stack (`make dev`). The paths
# start below either, so a generated client takes one of these as its base URL.
SERVERS = [
    {
        "url": "https://{apiId}.execute-api.{region}.amazonaws.com/{stage}",
        "description": "a deployed stack (its ApiUrl output)",
        "variables": {
            "apiId": {"default": "abc123", "description": "the REST API's id"},
            "region": {"default": "us-east-1"},
            "stage": {"default": "dev", "description": "the Stage parameter"},
        },
    },
    {"url": "http://127.0.0.1:3000", "description": "the local stack (`make dev`)"},
]
# Generators group operations by tag (openapi-python-client: one module per tag).
TAGS = [
    {"name": "tasks", "description": "one text, a task's state, the caller's tasks, cancel and purge"},
    {"name": "batches", "description": "a file of items, uploaded by presigned POST"},
    {"name": "results", "description": "per-item results and insights of a ready task"},
    {"name": "models", "description": "your own models, trained from your labelled rows; your default model"},
    {"name": "health", "description": "liveness and readiness, no API key"},
    {"name": "tenant", "description": "the caller's tenant as a whole: erasing all its data (admin scope)"},
]


def openapi_document() -> dict[str, Any]:
    document = build_app(*ROUTERS, openapi_url="/openapi.json").openapi()
    document["servers"] = SERVERS
    _declare_scopes(document)
    used = {
        tag for operations in document["paths"].values() for op in operations.values() for tag in op.get("tags", [])
    }
    document["tags"] = [tag for tag in TAGS if tag["name"] in used] + [
        {"name": name} for name in sorted(used - {tag["name"] for tag in TAGS})
    ]
    return document


def _declare_scopes(document: dict[str, Any]) -> None:
    """Each keyed operation's security requirement names the scope its route declares (FastAPI
    writes it from `scoped(...)`, reviewpulse.api.auth; OpenAPI 3.1 lets an apiKey requirement list
    the roles it needs). A route whose tenant declares no scope fails here, so `make openapi` cannot
    publish it; the scheme says what the scopes are."""
    route_scope_table()
    for scheme in document.get("components", {}).get("securitySchemes", {}).values():
        scheme["description"] = (
            "Your tenant's API key. Each operation names the scope its key needs: `read`, `analyze` "
            "or `admin` (403 insufficient-scope otherwise)."
        )
