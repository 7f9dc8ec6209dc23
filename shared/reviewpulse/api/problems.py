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
    502: "internal-error",
    503: "not-ready",
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


# What API Gateway itself answers (template.yaml's GatewayResponses), documented on the routes it
# answers them for. Any route: a function that fails or runs past its timeout (DEFAULT_5XX).
GATEWAY_ERRORS: dict[int, str] = {502: "internal-error: the function failed or timed out (API Gateway)"}
# Routes behind the authorizer and the usage plan.
KEYED_GATEWAY_ERRORS: dict[int, str] = {
    401: "unauthorized: no X-Api-Key, or an unknown, revoked or expired key",
    403: "insufficient-scope: the key lacks the scope this operation names; forbidden: a key the authorizer denies, or one outside the usage plan (API Gateway)",
    429: "throttled: over the tenant's usage-plan rate (API Gateway); retry after Retry-After seconds when given",
}
VALIDATION_ERROR = {422: "validation-error: a body, query or header that does not match the schema"}
_RETRY_AFTER = {"Retry-After": {"description": "seconds to wait before retrying", "schema": {"type": "integer"}}}


def problem_responses(*statuses: int, keyed: bool = True, validated: bool = True) -> dict[int | str, dict[str, Any]]:
    """The error responses of a route for OpenAPI: what the route itself answers (`statuses`), what
    the gateway answers for it, 401/403/429 when it is behind the API key (`keyed`), and 422 when
    it reads a body, query or header (`validated`). Only what the route can return."""
    described = {
        **GATEWAY_ERRORS,
        **(KEYED_GATEWAY_ERRORS if keyed else {}),
        **(VALIDATION_ERROR if validated else {}),
        **{status: _HTTP_CODES.get(status, "error") for status in statuses},
    }
    responses: dict[int | str, dict[str, Any]] = {}
    for status, description in sorted(described.items()):
        response: dict[str, Any] = {"model": Problem, "description": description, "content": {PROBLEM_MEDIA_TYPE: {}}}
        if status == 429:
            response["headers"] = _RETRY_AFTER
        responses[status] = response
    return responses


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
