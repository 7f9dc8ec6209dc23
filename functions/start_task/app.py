"""Lambda entry point of POST /v1/tasks/{task_id}/start."""

from reviewpulse.api.lambda_handler import api_lambda_handler
from reviewpulse.api.routes import start_task
from reviewpulse.settings import require_settings

# What this function reads from its environment, checked at cold start; template.yaml sets
# exactly these for it (tests/unit/test_template.py holds both sides).
REQUIRED_SETTINGS = ("TASKS_TABLE_NAME", "INGEST_QUEUE_URL")
OPTIONAL_SETTINGS = ("LLM_INPUT_PRICE_PER_MILLION", "LLM_OUTPUT_PRICE_PER_MILLION")
require_settings(REQUIRED_SETTINGS, OPTIONAL_SETTINGS)

handler = api_lambda_handler(start_task.router)
