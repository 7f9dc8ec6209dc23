"""Lambda entry point of GET /v1/tasks/{task_id}/insights."""

from reviewpulse.api.lambda_handler import api_lambda_handler
from reviewpulse.api.routes import get_insights

handler = api_lambda_handler(get_insights.router)
