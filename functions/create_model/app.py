"""Lambda entry point of POST /v1/models."""

from reviewpulse.api.lambda_handler import api_lambda_handler
from reviewpulse.api.routes import create_model
from reviewpulse.settings import require_settings

# What this function reads from its environment, checked at cold start; template.yaml sets
# exactly these for it (tests/unit/test_template.py holds both sides).
REQUIRED_SETTINGS = ("TASKS_TABLE_NAME", "MODELS_TABLE_NAME", "TRAINING_QUEUE_URL")
OPTIONAL_SETTINGS = ()
require_settings(REQUIRED_SETTINGS, OPTIONAL_SETTINGS)

handler = api_lambda_handler(create_model.router)
