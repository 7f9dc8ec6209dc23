"""Lambda entry point of DELETE /v1/tasks/{task_id}."""

from reviewpulse.api.lambda_handler import api_lambda_handler
from reviewpulse.api.routes import delete_task
from reviewpulse.observability import publishes_no_metrics
from reviewpulse.settings import require_settings

# What this function reads from its environment, checked at cold start; template.yaml sets
# exactly these for it (tests/unit/test_template.py holds both sides).
REQUIRED_SETTINGS = ("TASKS_TABLE_NAME", "DATA_BUCKET_NAME")
OPTIONAL_SETTINGS = ("LLM_INPUT_PRICE_PER_MILLION", "LLM_OUTPUT_PRICE_PER_MILLION")
require_settings(REQUIRED_SETTINGS, OPTIONAL_SETTINGS)
publishes_no_metrics()  # only ColdStart: no "No application metrics to publish" warning per call

handler = api_lambda_handler(delete_task.router)
