"""Lambda entry point of the splitter: S3 ObjectCreated events (through SQS) → chunks of work."""

import json
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import S3Event
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from reviewpulse.observability import logger
from reviewpulse.queues import SplitRequest, correlation_id_of
from reviewpulse.settings import get_settings, require_settings
from reviewpulse.storage.layout import parse_source_key
from reviewpulse.usecases.split import Delivery, split_source, split_started_task
from reviewpulse.wiring import finalize_queue, input_files, task_repository, work_queue
from reviewpulse.workers import sqs_lambda_handler

# What this function reads from its environment, checked at cold start; template.yaml sets
# exactly these for it (tests/unit/test_template.py holds both sides).
REQUIRED_SETTINGS = (
    "TASKS_TABLE_NAME",
    "DATA_BUCKET_NAME",
    "WORK_QUEUE_URL",
    "LLM_WORK_QUEUE_URL",
    "FINALIZE_QUEUE_URL",
    "INGEST_MAX_RECEIVE_COUNT",
)
OPTIONAL_SETTINGS = (
    "MAX_TEXT_CHARS",
    "MAX_UPLOAD_BYTES",
    "TASK_TTL_DAYS",
    "DEFAULT_ENGINE",
    "AUTO_MIN_CONFIDENCE",
    "LLM_API_KEY_SECRET",
    "LLM_INPUT_PRICE_PER_MILLION",
    "LLM_OUTPUT_PRICE_PER_MILLION",
)
require_settings(REQUIRED_SETTINGS, OPTIONAL_SETTINGS)


def record_handler(record: SQSRecord) -> None:
    settings = get_settings()
    final = int(record.attributes.approximate_receive_count) >= settings.ingest_max_receive_count
    body = json.loads(record.body)
    if body.get("Event") == "s3:TestEvent":  # S3 sends one when the notification is set up
        return
    if "split_task" in body:  # POST /v1/tasks/{id}/start: a quoted task's file, split for real
        request = SplitRequest.model_validate(body).split_task
        split_started_task(
            request.tenant,
            request.task_id,
            tasks=task_repository(),
            input_files=input_files(),
            queue=work_queue(),
            finalizer=finalize_queue(),
            settings=settings,
            correlation_id=correlation_id_of(record.message_attributes),
            final=final,
        )
        return
    for s3_record in S3Event(body).records:
        # Keys arrive URL-encoded (spaces as "+"), whatever the object's real name.
        source = parse_source_key(unquote_plus(s3_record.s3.get_object.key))
        if source is None:
            logger.warning("object outside the upload and drop prefixes ignored")
            continue
        split_source(
            source,
            tasks=task_repository(),
            input_files=input_files(),
            queue=work_queue(),
            finalizer=finalize_queue(),
            settings=settings,
            event_correlation_id=(s3_record.raw_event.get("responseElements") or {}).get("x-amz-request-id"),
            delivery=Delivery(
                sequencer=s3_record.s3.get_object.raw_event.get("sequencer"),
                event_time=s3_record.raw_event.get("eventTime"),
                final=final,
            ),
        )


handler = sqs_lambda_handler(record_handler)
