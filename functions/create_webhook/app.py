"""Lambda entry point of POST /v1/webhooks."""

from reviewpulse.api.lambda_handler import api_lambda_handler
from reviewpulse.api.routes import create_webhook
from reviewpulse.settings import require_settings

# What this function reads from its environment, checked at cold start; template.yaml sets
# exactly these for it (tests/unit/test_template.py holds both sides). WEBHOOK_ALLOWED_ADDRESSES
# is set only by the local stack (test receivers on 127.0.0.1), never by the template.
REQUIRED_SETTINGS = ("WEBHOOKS_TABLE_NAME", "WEBHOOK_SECRETS_KEY_ID")
OPTIONAL_SETTINGS = ("WEBHOOK_ALLOWED_ADDRESSES",)
require_settings(REQUIRED_SETTINGS, OPTIONAL_SETTINGS)

handler = api_lambda_handler(create_webhook.router)
