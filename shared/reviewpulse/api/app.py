"""Builds the FastAPI app of one function (or, for the OpenAPI document, of all of them)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from reviewpulse.api.problems import install_problem_handlers

API_TITLE = "ReviewPulse API"
API_VERSION = "1.0.0"


def build_app(*routers: APIRouter, openapi_url: str | None = None) -> FastAPI:
    app = FastAPI(
        title=API_TITLE,
        version=API_VERSION,
        description="Sentiment per item and a summary per batch for reviews and chat conversations.",
        openapi_url=openapi_url,
        docs_url=None,
        redoc_url=None,
    )
    install_problem_handlers(app)
    for router in routers:
        app.include_router(router)
    return app
