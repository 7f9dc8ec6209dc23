"""Lambda entry point of DELETE /v1/models/{model_id}."""

from reviewpulse.api.lambda_handler import api_lambda_handler
from reviewpulse.api.routes import delete_model
from reviewpulse.settings import require_settings

# What this function reads from its environment, checked at cold start; template.yaml sets
# exactly these for it (tests/unit/test_template.py holds both sides). The bucket: the model's
# artifacts are deleted with it.
REQUIRED_SETTINGS = ("MODELS_TABLE_NAME", "DATA_BUCKET_NAME")
OPTIONAL_SETTINGS = ()
require_settings(REQUIRED_SETTINGS, OPTIONAL_SETTINGS)

handler = api_lambda_handler(delete_model.router)
