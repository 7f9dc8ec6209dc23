"""Lambda entry point of POST /v1/webhooks/{webhook_id}/rotate-secret."""

from reviewpulse.api.lambda_handler import api_lambda_handler
from reviewpulse.api.routes import rotate_webhook_secret
from reviewpulse.settings import require_settings

# What this function reads from its environment, checked at cold start; template.yaml sets
# exactly these for it (tests/unit/test_template.py holds both sides).
REQUIRED_SETTINGS = ("WEBHOOKS_TABLE_NAME", "WEBHOOK_SECRETS_KEY_ID")
OPTIONAL_SETTINGS = ()
require_settings(REQUIRED_SETTINGS, OPTIONAL_SETTINGS)

handler = api_lambda_handler(rotate_webhook_secret.router)
