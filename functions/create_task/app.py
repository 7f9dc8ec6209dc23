"""Lambda entry point of POST /v1/tasks."""

from reviewpulse.api.lambda_handler import api_lambda_handler
from reviewpulse.api.routes import create_task

handler = api_lambda_handler(create_task.router)
