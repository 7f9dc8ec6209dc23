"""Lambda entry point of GET /v1/tasks/{task_id}."""

from reviewpulse.api.lambda_handler import api_lambda_handler
from reviewpulse.api.routes import get_task

handler = api_lambda_handler(get_task.router)
