"""Lambda entry point of GET /v1/tasks."""

from reviewpulse.api.lambda_handler import api_lambda_handler
from reviewpulse.api.routes import list_tasks

handler = api_lambda_handler(list_tasks.router)
