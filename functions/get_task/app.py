"""Lambda entry point for the get task endpoint: the FastAPI app of one router, run by Mangum."""

from aws_lambda_powertools.logging import correlation_paths
from mangum import Mangum

from reviewpulse.api.app import build_app
from reviewpulse.api.routes import get_task
from reviewpulse.observability import logger, metrics, tracer

app = build_app(get_task.router)
asgi = Mangum(app, lifespan="off")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event, context):
    return asgi(event, context)
