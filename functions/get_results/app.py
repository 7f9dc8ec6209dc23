"""Lambda entry point of GET /v1/tasks/{task_id}/results."""

from reviewpulse.api.lambda_handler import api_lambda_handler
from reviewpulse.api.routes import get_results
from reviewpulse.observability import publishes_no_metrics
from reviewpulse.settings import require_settings

# What this function reads from its environment, checked at cold start; template.yaml sets
# exactly these for it (tests/unit/test_template.py holds both sides).
REQUIRED_SETTINGS = ("TASKS_TABLE_NAME", "DATA_BUCKET_NAME", "CURSOR_SIGNING_SECRET")
OPTIONAL_SETTINGS = ()
require_settings(REQUIRED_SETTINGS, OPTIONAL_SETTINGS)
publishes_no_metrics()  # only ColdStart: no "No application metrics to publish" warning per call

handler = api_lambda_handler(get_results.router)
