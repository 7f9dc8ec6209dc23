"""Lambda entry point for the work queue's dead letters: count their items as failed."""

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from reviewpulse.observability import logger, metrics, tracer
from reviewpulse.queues import WorkMessage, correlation_id_of
from reviewpulse.settings import get_settings
from reviewpulse.wiring import result_store, task_repository
from reviewpulse.workflows.dead_letter import settle_dead_chunk

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> None:
    logger.set_correlation_id(correlation_id_of(record.message_attributes))
    message = WorkMessage.model_validate_json(record.body)
    settle_dead_chunk(message, tasks=task_repository(), store=result_store(), settings=get_settings())


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event, context):
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
