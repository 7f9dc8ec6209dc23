"""Lambda entry point of GET /health."""

from reviewpulse.api.lambda_handler import api_lambda_handler
from reviewpulse.api.routes import health
from reviewpulse.observability import publishes_no_metrics
from reviewpulse.settings import require_settings

# What this function reads from its environment, checked at cold start; template.yaml sets
# exactly these for it (tests/unit/test_template.py holds both sides).
REQUIRED_SETTINGS = ("TASKS_TABLE_NAME",)
OPTIONAL_SETTINGS = ()
require_settings(REQUIRED_SETTINGS, OPTIONAL_SETTINGS)
publishes_no_metrics()  # only ColdStart: no "No application metrics to publish" warning per call

handler = api_lambda_handler(health.router)
