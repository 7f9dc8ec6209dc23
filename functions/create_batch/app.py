"""Lambda entry point of POST /v1/batches."""

from reviewpulse.api.lambda_handler import api_lambda_handler
from reviewpulse.api.routes import create_batch

handler = api_lambda_handler(create_batch.router)
