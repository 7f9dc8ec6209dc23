"""Lambda entry point of POST /v1/batches."""

from reviewpulse.api.lambda_handler import api_lambda_handler
from reviewpulse.api.routes import create_batch
from reviewpulse.settings import require_settings

# What this function reads from its environment, checked at cold start; template.yaml sets
# exactly these for it (tests/unit/test_template.py holds both sides).
REQUIRED_SETTINGS = ("TASKS_TABLE_NAME", "MODELS_TABLE_NAME", "DATA_BUCKET_NAME", "IDEMPOTENCY_TABLE_NAME")
OPTIONAL_SETTINGS = (
    "MAX_UPLOAD_BYTES",
    "TASK_TTL_DAYS",
    "DEFAULT_ENGINE",
    "AUTO_MIN_CONFIDENCE",
    "LLM_API_KEY_SECRET",
    "LLM_INPUT_PRICE_PER_MILLION",
    "LLM_OUTPUT_PRICE_PER_MILLION",
    "ALLOW_UNREDACTED_LLM",
)
require_settings(REQUIRED_SETTINGS, OPTIONAL_SETTINGS)

handler = api_lambda_handler(create_batch.router)
