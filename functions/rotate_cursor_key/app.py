"""Lambda entry point of the cursor signing secret's rotation (Secrets Manager invokes it for each
of the four steps, on the secret's schedule or `aws secretsmanager rotate-secret`)."""

from reviewpulse.messages.rotation import SecretRotationStep
from reviewpulse.observability import logger, metrics, publishes_no_metrics, tracer
from reviewpulse.settings import get_settings, require_settings
from reviewpulse.wiring import rotate_cursor_signing_secret

# What this function reads from its environment, checked at cold start; template.yaml sets
# exactly these for it (tests/unit/test_template.py holds both sides).
REQUIRED_SETTINGS = ("CURSOR_SIGNING_SECRET",)
OPTIONAL_SETTINGS = ()
require_settings(REQUIRED_SETTINGS, OPTIONAL_SETTINGS)
publishes_no_metrics()


# Never log_event=True: nothing secret is in the event, but its habit is not one to start.
@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event, context):
    rotation = SecretRotationStep.model_validate(event)  # anything else is a Lambda error
    if rotation.secret_id != get_settings().cursor_signing_secret:
        raise ValueError("this function rotates the cursor signing secret only")
    rotate_cursor_signing_secret(rotation.step, rotation.secret_id, rotation.token)
    logger.info("cursor signing secret rotation step done", extra={"step": rotation.step})
    return {"step": rotation.step}
