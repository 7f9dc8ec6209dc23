"""Lambda entry point for the work queue's dead letters: count their items as failed."""

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from reviewpulse.observability import logger
from reviewpulse.queues import WorkMessage, correlation_id_of
from reviewpulse.settings import get_settings
from reviewpulse.wiring import result_store, task_repository
from reviewpulse.workers import sqs_lambda_handler
from reviewpulse.workflows.dead_letter import settle_dead_chunk


def record_handler(record: SQSRecord) -> None:
    logger.set_correlation_id(correlation_id_of(record.message_attributes))
    message = WorkMessage.model_validate_json(record.body)
    settle_dead_chunk(message, tasks=task_repository(), store=result_store(), settings=get_settings())


handler = sqs_lambda_handler(record_handler)
