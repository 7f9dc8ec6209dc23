"""The OpenAPI document of the whole API, generated from the same routers the functions deploy."""

from __future__ import annotations

from typing import Any

from reviewpulse.api.app import build_app
from reviewpulse.api.routes import (
    create_batch,
    create_task,
    delete_task,
    get_insights,
    get_results,
    get_task,
    health,
    list_tasks,
    resume_task,
    start_task,
)

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
)


def openapi_document() -> dict[str, Any]:
    return build_app(*ROUTERS, openapi_url="/openapi.json").openapi()
