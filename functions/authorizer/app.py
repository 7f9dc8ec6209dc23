"""Lambda entry point of the REQUEST authorizer: X-Api-Key → tenant, or 401."""

from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
)
from reviewpulse.observability import logger, metrics, publishes_no_metrics, tracer
from reviewpulse.settings import require_settings
from reviewpulse.tenants.authorizer import authorize
from reviewpulse.wiring import key_repository

# What this function reads from its environment, checked at cold start; template.yaml sets
# exactly these for it (tests/unit/test_template.py holds both sides).
REQUIRED_SETTINGS = ("KEYS_TABLE_NAME",)
OPTIONAL_SETTINGS = ()
require_settings(REQUIRED_SETTINGS, OPTIONAL_SETTINGS)
publishes_no_metrics()  # only ColdStart: no "No application metrics to publish" warning per call


# Never log_event=True: the event carries the API key.
@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
@event_source(data_class=APIGatewayAuthorizerRequestEvent)
def handler(event: APIGatewayAuthorizerRequestEvent, context):
    return authorize(event, key_repository())
