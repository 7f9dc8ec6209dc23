"""Lambda entry point of DELETE /v1/tasks/{task_id}."""

from reviewpulse.api.lambda_handler import api_lambda_handler
from reviewpulse.api.routes import delete_task

handler = api_lambda_handler(delete_task.router)
