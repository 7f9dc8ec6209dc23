"""Lambda entry point of GET /v1/models/{model_id}."""

from reviewpulse.api.lambda_handler import api_lambda_handler
from reviewpulse.api.routes import get_model
from reviewpulse.settings import require_settings

# What this function reads from its environment, checked at cold start; template.yaml sets
# exactly these for it (tests/unit/test_template.py holds both sides).
REQUIRED_SETTINGS = ("MODELS_TABLE_NAME",)
OPTIONAL_SETTINGS = ()
require_settings(REQUIRED_SETTINGS, OPTIONAL_SETTINGS)

handler = api_lambda_handler(get_model.router)
