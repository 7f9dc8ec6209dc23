"""The Lambda handler of one API function: its router's FastAPI app, run by Mangum, wrapped in
the one Powertools decorator order every function uses."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from fastapi import APIRouter
from mangum import Mangum

from reviewpulse.api.app import build_app
from reviewpulse.observability import ExceptionTextFilter, logger, metrics, tracer

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


# Bodies of these types go back as text. Any other type Mangum base64-encodes, and a REST API
# without binaryMediaTypes would hand the client that base64 text: problem+json must be here.
TEXT_MEDIA_TYPES = ["application/json", "application/problem+json"]

# Mangum logs an error that escapes the app with its traceback, message and all: keep its type
# and place only. Its INFO line per request names the raw path, which a client can fill with any
# text; API Gateway's access log already records each request.
_mangum_log = logging.getLogger("mangum.http")
_mangum_log.addFilter(ExceptionTextFilter())
_mangum_log.setLevel(logging.WARNING)


def api_lambda_handler(router: APIRouter) -> LambdaHandler:
    asgi = Mangum(build_app(router), lifespan="off", text_mime_types=TEXT_MEDIA_TYPES)

    # Never log_event=True: events carry customer text.
    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics(capture_cold_start_metric=True)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return asgi(event, context)

    return handler
