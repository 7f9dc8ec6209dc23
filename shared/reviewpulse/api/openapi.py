"""The OpenAPI document of the whole API, generated from the same routers the functions deploy."""

from __future__ import annotations

from typing import Any

from reviewpulse.api.app import build_app
from reviewpulse.api.routes import (
    analyze_texts,
    create_batch,
    create_task,
    create_webhook,
    delete_task,
    delete_webhook,
    get_insights,
    get_results,
    get_task,
    health,
    list_tasks,
    list_webhooks,
)

ROUTERS = (
    create_task.router,
    create_batch.router,
    list_tasks.router,
    get_task.router,
    delete_task.router,
    get_results.router,
    get_insights.router,
    health.router,
    analyze_texts.router,
    create_webhook.router,
    list_webhooks.router,
    delete_webhook.router,
)


def openapi_document() -> dict[str, Any]:
    return build_app(*ROUTERS, openapi_url="/openapi.json").openapi()
