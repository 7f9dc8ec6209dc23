"""The one Logger, Metrics and Tracer every function uses.

Service name, namespace and log level come from the POWERTOOLS_* environment variables set in
template.yaml, so nothing here changes between AWS and the local stack. Tracing is switched off
locally with POWERTOOLS_TRACE_DISABLED.
"""

import os
import traceback

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

# The template sets POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE; these defaults only
# keep tools that import the package before setting them from failing every metric flush.
logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "reviewpulse"))
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "ReviewPulse"))
tracer = Tracer()


def failure_fields(exc: BaseException) -> dict[str, str]:
    """What to log about an exception: its type and where it was raised, never its message,
    which can quote customer text (a pydantic error's input, a parser's excerpt)."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno} in {frames[-1].name}" if frames else ""
    return {"error_type": f"{type(exc).__module__}.{type(exc).__qualname__}", "error_location": where}


__all__ = ["logger", "metrics", "tracer", "MetricUnit", "failure_fields"]
