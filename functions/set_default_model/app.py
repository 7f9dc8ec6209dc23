"""Lambda entry point of PUT /v1/models/default."""

from reviewpulse.api.lambda_handler import api_lambda_handler
from reviewpulse.api.routes import set_default_model
from reviewpulse.settings import require_settings

# What this function reads from its environment, checked at cold start; template.yaml sets
# exactly these for it (tests/unit/test_template.py holds both sides).
REQUIRED_SETTINGS = ("MODELS_TABLE_NAME",)
OPTIONAL_SETTINGS = ()
require_settings(REQUIRED_SETTINGS, OPTIONAL_SETTINGS)

handler = api_lambda_handler(set_default_model.router)
