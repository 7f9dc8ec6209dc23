"""Lambda entry point of POST /v1/analyze: up to 25 texts answered at once (or a task to follow)."""

from reviewpulse.api.lambda_handler import api_lambda_handler
from reviewpulse.api.routes import analyze_texts
from reviewpulse.settings import require_settings

# What this function reads from its environment, checked at cold start; template.yaml sets
# exactly these for it (tests/unit/test_template.py holds both sides).
# The queues: texts not answered in time become a task like POST /v1/tasks makes.
# The models table and the bucket: options.model_id (or the tenant's default) reads the texts.
REQUIRED_SETTINGS = (
    "TASKS_TABLE_NAME",
    "WORK_QUEUE_URL",
    "LLM_WORK_QUEUE_URL",
    "MODELS_TABLE_NAME",
    "DATA_BUCKET_NAME",
)
OPTIONAL_SETTINGS = (
    "MAX_TEXT_CHARS",
    "TASK_TTL_DAYS",
    "DEFAULT_ENGINE",
    "AUTO_MIN_CONFIDENCE",
    "RESULT_CACHE_TABLE_NAME",
    "BUDGETS_TABLE_NAME",  # llm and auto: each request reserved against the tenant's monthly budget
    "LLM_API_KEY_SECRET",
    "LLM_MODEL",
    "OPENAI_BASE_URL",
    "LLM_FALLBACK",
    "LLM_INPUT_PRICE_PER_MILLION",
    "LLM_OUTPUT_PRICE_PER_MILLION",
)
require_settings(REQUIRED_SETTINGS, OPTIONAL_SETTINGS)

handler = api_lambda_handler(analyze_texts.router)
