"""Lambda entry point for dead letters of the work and finalize queues: every task still ends."""

# Powertools' batch module before pydantic: imported after it, it builds all of its parser's
# event models (about 30 ms of CPU at a cold start), which these handlers never use.
import aws_lambda_powertools.utilities.batch  # noqa: F401
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from reviewpulse.messages import read_message
from reviewpulse.messages.dead_letters import DEAD_LETTERS
from reviewpulse.observability import logger, publishes_no_metrics
from reviewpulse.queues import FinalizeRequest, WorkMessage, correlation_id_of
from reviewpulse.settings import require_settings
from reviewpulse.usecases.analyze_chunk import Counting
from reviewpulse.usecases.dead_letter import SettleDeadChunk, settle_dead_chunk, settle_dead_finalize
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
    message = read_message(DEAD_LETTERS, record.body, queue="dead-letter", message_id=record.message_id)
    if isinstance(message, WorkMessage):
        # Built here from this module's factories, which a test or the fault injector may replace.
        counting = Counting(tasks=task_repository(), result_files=result_files(), finalizer=finalize_queue())
        settle_dead_chunk(SettleDeadChunk(message, correlation_id), counting)
    elif isinstance(message, FinalizeRequest):
        settle_dead_finalize(message, tasks=task_repository())
    # Else nothing to attribute it to and nothing a retry would change: read_message said so once.


handler = sqs_lambda_handler(record_handler)
