"""The Lambda handler of an SQS-triggered function: Powertools' BatchProcessor reports only the
records that failed (ReportBatchItemFailures), wrapped in the one decorator order every function
uses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from reviewpulse.observability import logger, metrics, tracer

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


def sqs_lambda_handler(record_handler: Callable[..., None]) -> LambdaHandler:
    """`record_handler(record)`, or `record_handler(record, lambda_context)` to see its deadline."""
    processor = BatchProcessor(event_type=EventType.SQS)

    @logger.inject_lambda_context
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics(capture_cold_start_metric=True)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )

    return handler
