"""The Lambda handler of an SQS- or DynamoDB-stream-triggered function: Powertools' BatchProcessor
reports only the records that failed (ReportBatchItemFailures), wrapped in the one decorator order
every function uses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from reviewpulse.observability import describe_failure, failure_fields, logger, metrics, tracer

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


class RecordFailed(Exception):
    """Stands in for the exception a record raised: only its type and place (and, for a validation
    error, which fields failed), because the original message can quote the record's body."""


class RedactingBatchProcessor(BatchProcessor):
    """BatchProcessor keeps each record's exception, logs its text at debug level and, when every
    record of a batch fails, raises them all, tracebacks and messages, as the Lambda error. A
    pydantic error's message holds the input, i.e. the queue message's texts: every failure is
    replaced here, the one place all of them pass, before anything renders it."""

    def failure_handler(self, record: Any, exception: Any) -> Any:
        _, error, _ = exception
        if error is None:
            return super().failure_handler(record, exception)
        logger.warning(
            "record failed; left for redelivery",
            # An SQS record's message id, or a stream record's event id
            extra={
                "message_id": getattr(record, "message_id", None) or getattr(record, "event_id", None),
                **failure_fields(error),
            },
        )
        redacted = RecordFailed(describe_failure(error))
        return super().failure_handler(record, (RecordFailed, redacted, None))


def sqs_lambda_handler(record_handler: Callable[..., None]) -> LambdaHandler:
    """`record_handler(record)`, or `record_handler(record, lambda_context)` to see its deadline."""
    return _batch_handler(record_handler, EventType.SQS)


def stream_lambda_handler(record_handler: Callable[..., None]) -> LambdaHandler:
    """The same for a DynamoDB stream: a failed record is reported by its sequence number, and
    Lambda delivers it again with every record after it in its shard (in order)."""
    return _batch_handler(record_handler, EventType.DynamoDBStreams)


def _batch_handler(record_handler: Callable[..., None], event_type: EventType) -> LambdaHandler:
    processor = RedactingBatchProcessor(event_type=event_type)

    @logger.inject_lambda_context
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics(capture_cold_start_metric=True)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )

    return handler
