"""Lambda entry point of the splitter: S3 ObjectCreated events (through SQS, or bare) → chunks of work."""

import json
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import S3Event
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from reviewpulse.api.schemas import DropOptionsRequest
from reviewpulse.observability import logger, metrics, tracer
from reviewpulse.queues import SplitRequest, correlation_id_of
from reviewpulse.settings import get_settings, require_settings
from reviewpulse.storage.layout import parse_source_key
from reviewpulse.usecases.split import Delivery, DropChecks, split_source, split_started_task
from reviewpulse.wiring import (
    finalize_queue,
    input_files,
    key_repository,
    model_repository,
    result_files,
    task_repository,
    work_queue,
)
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
    "KEYS_TABLE_NAME",
    "MODELS_TABLE_NAME",  # a drop's model: the tenant's default, or a sidecar's, checked
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
    "LLM_BATCH_MIN_ITEMS",
    "ALLOW_UNREDACTED_LLM",
)
require_settings(REQUIRED_SETTINGS, OPTIONAL_SETTINGS)


def drop_checks() -> DropChecks:
    # A drop's sidecar takes the options the API takes, validated by the API's own model.
    return DropChecks(
        keys=key_repository(), result_files=result_files(), options_model=DropOptionsRequest, models=model_repository()
    )


def record_handler(record: SQSRecord) -> None:
    settings = get_settings()
    final = int(record.attributes.approximate_receive_count) >= settings.ingest_max_receive_count
    body = json.loads(record.body)
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
            drops=drop_checks(),
            correlation_id=correlation_id_of(record.message_attributes),
            final=final,
        )
        return
    split_notification(body, final=final)


def split_notification(notification: dict[str, Any], *, final: bool) -> None:
    """One S3 notification: each object created under the upload and drop prefixes is split."""
    settings = get_settings()
    if notification.get("Event") == "s3:TestEvent":  # S3 sends one when the notification is set up
        return
    for s3_record in S3Event(notification).records:
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
            drops=drop_checks(),
            event_correlation_id=(s3_record.raw_event.get("responseElements") or {}).get("x-amz-request-id"),
            delivery=Delivery(
                sequencer=s3_record.s3.get_object.raw_event.get("sequencer"),
                event_time=s3_record.raw_event.get("eventTime"),
                final=final,
            ),
        )


sqs_handler = sqs_lambda_handler(record_handler)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def s3_handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    # No receive count without a queue: every delivery counts as the last, so a split that fails
    # still ends its task (as on the queue's last delivery) rather than leaving it running.
    split_notification(event, final=True)
    return {"records": len(event.get("Records", []))}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The template wires S3 → IngestQueue → this function (an SQS event); a bare S3 notification,
    as S3 sends it to a function wired directly (and `sam local generate-event s3 put` writes it),
    is split the same way."""
    records = event.get("Records") or []
    if records and all(isinstance(r, dict) and r.get("eventSource") == "aws:s3" for r in records):
        return s3_handler(event, context)
    return sqs_handler(event, context)
