"""Lambda entry point of the splitter: S3 ObjectCreated events (through SQS, or bare) → chunks of work."""

import time
from typing import Any

# Powertools' batch module before pydantic: imported after it, it builds all of its parser's
# event models (about 30 ms of CPU at a cold start), which these handlers never use.
import aws_lambda_powertools.utilities.batch  # noqa: F401
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import ValidationError
from reviewpulse.messages import read_message
from reviewpulse.messages.ingest import INGEST_MESSAGES, S3Notification
from reviewpulse.observability import logger, metrics, tracer
from reviewpulse.queues import SplitRequest, correlation_id_of
from reviewpulse.settings import get_settings, require_settings
from reviewpulse.usecases.split import (
    Delivery,
    ResumeSplit,
    SplitQuotedTask,
    split_notification,
    split_resumed,
    split_started_task,
)
from reviewpulse.usecases.teach_first import SplitRest, split_rest
from reviewpulse.wiring import splitter
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
    "INGEST_QUEUE_URL",  # a split that runs short of time asks its own queue for the rest
    "KEYS_TABLE_NAME",
)
OPTIONAL_SETTINGS = (
    "MODELS_TABLE_NAME",  # a drop's model: the tenant's default, or a sidecar's, checked
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
    "MODELS_TABLE_NAME",  # drops read the tenant's default model (wiring.splitter)
)
require_settings(REQUIRED_SETTINGS, OPTIONAL_SETTINGS)

# What is left of the function's time when a split stops queueing chunks and hands the rest on
# (usecases/split_pacing.py): enough for the batch of chunks in flight, its checkpoint and the
# request for the rest, with room to spare on a slow network.
HAND_ON_SECONDS = 60


def deadline_of(lambda_context: Any) -> float:
    return time.monotonic() + lambda_context.get_remaining_time_in_millis() / 1000 - HAND_ON_SECONDS


def record_handler(record: SQSRecord, lambda_context: Any) -> None:
    final = int(record.attributes.approximate_receive_count) >= get_settings().ingest_max_receive_count
    deadline = deadline_of(lambda_context)
    message = read_message(INGEST_MESSAGES, record.body, queue="ingest", message_id=record.message_id)
    if isinstance(message, SplitRequest) and message.resume:  # a split handed on before its timeout
        ref = message.split_task
        delivery = Delivery(final=final, deadline=deadline)
        command = ResumeSplit(ref.tenant, ref.task_id, correlation_id_of(record.message_attributes), delivery)
        split_resumed(command, splitter())
    elif isinstance(message, SplitRequest) and message.rest:  # a taught-first task's model ended: its rest
        ref = message.split_task
        correlation_id = correlation_id_of(record.message_attributes)
        split_rest(SplitRest(ref.tenant, ref.task_id, correlation_id, final), splitter())
    elif isinstance(message, SplitRequest):  # POST /v1/tasks/{id}/start: a quoted task's file, split for real
        ref = message.split_task
        correlation_id = correlation_id_of(record.message_attributes)
        command = SplitQuotedTask(ref.tenant, ref.task_id, correlation_id, final, deadline)
        split_started_task(command, splitter())
    elif isinstance(message, S3Notification):
        split_notification(message, splitter(), final=final, deadline=deadline)
    # S3's test event (sent when the notification is set up) has nothing to split; a message of no
    # known kind was logged by read_message, and is acknowledged: no redelivery would change it.


sqs_handler = sqs_lambda_handler(record_handler)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def s3_handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    # No receive count without a queue: every delivery counts as the last, so a split that fails
    # still ends its task (as on the queue's last delivery) rather than leaving it running.
    notification = S3Notification.model_validate(event)
    split_notification(notification, splitter(), final=True, deadline=deadline_of(context))
    return {"records": len(notification.records)}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The template wires S3 → IngestQueue → this function (an SQS event); a bare S3 notification,
    as S3 sends it to a function wired directly (and `sam local generate-event s3 put` writes it),
    is split the same way."""
    if _is_s3_notification(event):
        return s3_handler(event, context)
    return sqs_handler(event, context)


def _is_s3_notification(event: dict[str, Any]) -> bool:
    try:
        S3Notification.model_validate(event)
    except ValidationError:
        return False  # an SQS event: its records are the queue's messages
    return True
