"""The OpenAPI document of the whole API, generated from the same routers the functions deploy."""

from __future__ import annotations

from typing import Any

from reviewpulse.api.app import build_app
from reviewpulse.api.routes import (
    analyze_texts,
    create_batch,
    create_model,
    create_task,
    create_webhook,
    delete_model,
    delete_task,
    delete_webhook,
    erase_tenant_data,
    get_insights,
    get_model,
    get_results,
    get_task,
    health,
    list_models,
    list_tasks,
    list_webhooks,
    resume_task,
    rotate_webhook_secret,
    set_default_model,
    start_task,
)
from reviewpulse.api.scopes import required_scope

ROUTERS = (
    create_task.router,
    create_batch.router,
    list_tasks.router,
    get_task.router,
    delete_task.router,
    start_task.router,
    resume_task.router,
    get_results.router,
    get_insights.router,
    health.router,
    analyze_texts.router,
    create_webhook.router,
    list_webhooks.router,
    delete_webhook.router,
    erase_tenant_data.router,
    rotate_webhook_secret.router,
    create_model.router,
    list_models.router,
    get_model.router,
    delete_model.router,
    set_default_model.router,
)


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
    """Each keyed operation's security requirement names the scope the one table gives its route
    (OpenAPI 3.1 lets an apiKey requirement list the roles it needs). A route missing from the
    table fails here, so `make openapi` cannot publish an undeclared route."""
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if not operation.get("security"):
                continue
            scope = required_scope(method, path)
            operation["security"] = [
                {name: [scope.value] if scope else [] for name in requirement} for requirement in operation["security"]
            ]
    for scheme in document.get("components", {}).get("securitySchemes", {}).values():
        scheme["description"] = (
            "Your tenant's API key. Each operation names the scope its key needs: `read`, `analyze` "
            "or `admin` (403 insufficient-scope otherwise)."
        )
