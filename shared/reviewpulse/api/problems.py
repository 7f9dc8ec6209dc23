"""RFC 7807 problem responses: the one place where errors become HTTP answers."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from reviewpulse.errors import ReviewPulseError
from reviewpulse.observability import failure_fields, logger, safe_validation_errors

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://reviewpulse.dev/problems/"

_HTTP_CODES = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    413: "too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    429: "throttled",
}


class Problem(BaseModel):
    """The body of every error response."""

    type: str
    title: str
    status: int
    code: str
    detail: str
    errors: list[dict[str, Any]] | None = None


def problem_response(
    status: int, code: str, title: str, detail: str, errors: list[dict[str, Any]] | None = None
) -> JSONResponse:
    body = Problem(type=PROBLEM_TYPE_BASE + code, title=title, status=status, code=code, detail=detail, errors=errors)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, media_type=PROBLEM_MEDIA_TYPE)


# The error responses every endpoint documents in OpenAPI.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": code, "content": {PROBLEM_MEDIA_TYPE: {}}}
    for status, code in ((401, "unauthorized"), (422, "validation-error"))
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        **PROBLEM_RESPONSES,
        **{
            s: {"model": Problem, "description": _HTTP_CODES.get(s, "error"), "content": {PROBLEM_MEDIA_TYPE: {}}}
            for s in statuses
        },
    }


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(ReviewPulseError)
    async def _domain(_: Request, exc: ReviewPulseError) -> JSONResponse:
        return problem_response(exc.status, exc.code, exc.title, exc.detail)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        # Only where and what, never the rejected input itself: it may be customer text.
        return problem_response(
            422,
            "validation-error",
            "Request is not valid",
            "the request does not match the schema",
            safe_validation_errors(exc.errors()),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "error")
        return problem_response(exc.status_code, code, code.replace("-", " ").capitalize(), str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        logger.error("unhandled error", extra=failure_fields(exc))
        return problem_response(500, "internal-error", "Internal error", "an unexpected error occurred")
