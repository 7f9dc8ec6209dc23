"""Lambda entry point of DELETE /v1/tenant/data."""

from reviewpulse.api.lambda_handler import api_lambda_handler
from reviewpulse.api.routes import erase_tenant_data
from reviewpulse.settings import require_settings

# What this function reads from its environment, checked at cold start; template.yaml sets
# exactly these for it (tests/unit/test_template.py holds both sides).
REQUIRED_SETTINGS = (
    "TASKS_TABLE_NAME",
    "DATA_BUCKET_NAME",
    "WEBHOOKS_TABLE_NAME",
    "BUDGETS_TABLE_NAME",
    "RESULT_CACHE_TABLE_NAME",
    "PROVIDER_BATCHES_TABLE_NAME",
    "MODELS_TABLE_NAME",
)
OPTIONAL_SETTINGS = ()
require_settings(REQUIRED_SETTINGS, OPTIONAL_SETTINGS)

handler = api_lambda_handler(erase_tenant_data.router)
