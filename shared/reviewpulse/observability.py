"""The one Logger, Metrics and Tracer every function uses.

Service name, namespace and log level come from the POWERTOOLS_* environment variables set in
template.yaml, so nothing here changes between AWS and the local stack. Tracing is switched off
locally with POWERTOOLS_TRACE_DISABLED.
"""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger()
metrics = Metrics()
tracer = Tracer()

__all__ = ["logger", "metrics", "tracer", "MetricUnit"]
