"""The one Logger, Metrics and Tracer every function uses.

Service name, namespace and log level come from the POWERTOOLS_* environment variables set in
template.yaml, so nothing here changes between AWS and the local stack. Tracing is switched off
locally with POWERTOOLS_TRACE_DISABLED.
"""

import logging
import os
import traceback
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import ValidationError

# The template sets POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE; these defaults only
# keep tools that import the package before setting them from failing every metric flush.
logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "reviewpulse"))
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "ReviewPulse"))
tracer = Tracer()

EMPTY_METRICS_WARNING = "No application metrics to publish"


def publishes_no_metrics() -> None:
    """Silence Powertools' "No application metrics to publish" warning in this process.

    Powertools warns on every invocation that flushes no metric, and its documented remedy is a
    warning filter. Every function gets it, at the import of this module: the read-only ones never
    publish, and the others publish only on some invocations (a task created, a webhook delivered),
    so the warning was noise on a terminal and in the logs, and a list of which functions "publish
    none" fell out of date (the webhook functions warned). tests/unit/test_quiet_functions.py
    holds every function of template.yaml to it. Kept callable for the handlers that call it."""
    warnings.filterwarnings("ignore", message=EMPTY_METRICS_WARNING)


publishes_no_metrics()


def failure_fields(exc: BaseException) -> dict[str, str]:
    """What to log about an exception: its type and where it was raised, never its message,
    which can quote customer text (a pydantic error's input, a parser's excerpt)."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno} in {frames[-1].name}" if frames else ""
    return {"error_type": f"{type(exc).__module__}.{type(exc).__qualname__}", "error_location": where}


def describe_failure(exc: BaseException) -> str:
    """One line about an exception that is safe to log or to raise into a Lambda error: its type and
    place, and for a validation error which fields failed and how (never the values)."""
    fields = failure_fields(exc)
    described = f"{fields['error_type']} at {fields['error_location'] or 'unknown place'}"
    if isinstance(exc, ValidationError):
        found = exc.errors(include_input=False, include_url=False, include_context=False)
        described += "".join(
            f"; {'.'.join(str(part) for part in e['loc'])}: {e['type']}" for e in safe_validation_errors(found)
        )
    return described


def safe_validation_errors(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Validation errors as where, what and which rule: pydantic's and FastAPI's renderings also
    carry `input` (and `ctx`, `url`), and the input is the customer's text."""
    return [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))} for e in errors
    ]


class ExceptionTextFilter(logging.Filter):
    """For the loggers of libraries that log exceptions with their traceback and message (Mangum
    logs any error that escapes the app): keep the record, but replace the exception with its
    type and place, since a message can quote customer text."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            record.msg = f"{record.getMessage()} ({describe_failure(record.exc_info[1])})"
            record.args = ()
            record.exc_info = None
            record.exc_text = None
        return True


__all__ = [
    "publishes_no_metrics",
    "logger",
    "metrics",
    "tracer",
    "MetricUnit",
    "ExceptionTextFilter",
    "describe_failure",
    "failure_fields",
    "safe_validation_errors",
]
