"""Lambda entry point of the finalizer: a fully counted task → merged results, summary, ready."""

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from reviewpulse.analysis.engines import LazyLlmEngine
from reviewpulse.observability import logger
from reviewpulse.queues import FinalizeRequest, correlation_id_of
from reviewpulse.settings import get_settings
from reviewpulse.wiring import result_store, task_repository
from reviewpulse.workers import sqs_lambda_handler
from reviewpulse.workflows.finalize import finalize_request

# Writes the executive summary of an LLM task's report; openai is imported only for the first one.
llm_engine = LazyLlmEngine()


def record_handler(record: SQSRecord) -> None:
    logger.set_correlation_id(correlation_id_of(record.message_attributes))
    request = FinalizeRequest.model_validate_json(record.body)
    finalize_request(request, tasks=task_repository(), store=result_store(), settings=get_settings(), llm=llm_engine)


handler = sqs_lambda_handler(record_handler)
