"""Lambda entry point of GET /health."""

from reviewpulse.api.lambda_handler import api_lambda_handler
from reviewpulse.api.routes import health

handler = api_lambda_handler(health.router)
