"""Lambda entry point for dead letters of the work and finalize queues: every task still ends."""

import json

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import ValidationError
from reviewpulse.observability import logger, publishes_no_metrics
from reviewpulse.queues import FinalizeRequest, WorkMessage, correlation_id_of
from reviewpulse.settings import require_settings
from reviewpulse.usecases.dead_letter import settle_dead_chunk, settle_dead_finalize
from reviewpulse.wiring import finalize_queue, result_files, task_repository
from reviewpulse.workers import sqs_lambda_handler

# What this function reads from its environment, checked at cold start; template.yaml sets
# exactly these for it (tests/unit/test_template.py holds both sides).
REQUIRED_SETTINGS = ("TASKS_TABLE_NAME", "DATA_BUCKET_NAME", "FINALIZE_QUEUE_URL")
OPTIONAL_SETTINGS = ()
require_settings(REQUIRED_SETTINGS, OPTIONAL_SETTINGS)
publishes_no_metrics()  # only ColdStart: no "No application metrics to publish" warning per call


def record_handler(record: SQSRecord) -> None:
    correlation_id = correlation_id_of(record.message_attributes)
    logger.set_correlation_id(correlation_id)
    try:
        body = json.loads(record.body)
        if isinstance(body, dict) and "chunk" in body:
            message = WorkMessage.model_validate(body)
            settle_dead_chunk(
                message,
                tasks=task_repository(),
                result_files=result_files(),
                finalizer=finalize_queue(),
                correlation_id=correlation_id,
            )
        else:
            settle_dead_finalize(FinalizeRequest.model_validate(body), tasks=task_repository())
    except (ValueError, ValidationError):
        # Nothing to attribute it to and nothing a retry would change: say so once and drop it.
        logger.error("unreadable dead letter dropped", extra={"message_id": record.message_id})


handler = sqs_lambda_handler(record_handler)
