"""Lambda entry point of the finalizer: a fully counted task → merged results, summary, ready."""

import time

# Powertools' batch module before pydantic: imported after it, it builds all of its parser's
# event models (about 30 ms of CPU at a cold start), which these handlers never use.
import aws_lambda_powertools.utilities.batch  # noqa: F401
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from reviewpulse.analysis.engines.base import EngineParts
from reviewpulse.analysis.llm.lazy import LazyLlmEngine
from reviewpulse.observability import logger
from reviewpulse.queues import FinalizeRequest, correlation_id_of
from reviewpulse.settings import get_settings, require_settings
from reviewpulse.usecases.finalize import Finalizer, finalize_request
from reviewpulse.usecases.teach_first import Teaching
from reviewpulse.wiring import (
    ingest_queue,
    input_files,
    model_repository,
    result_files,
    task_repository,
    training_queue,
)
from reviewpulse.workers import sqs_lambda_handler

# What this function reads from its environment, checked at cold start; template.yaml sets
# exactly these for it (tests/unit/test_template.py holds both sides).
REQUIRED_SETTINGS = (
    "TASKS_TABLE_NAME",
    "DATA_BUCKET_NAME",
    "MODELS_TABLE_NAME",
    "TRAINING_QUEUE_URL",
    "INGEST_QUEUE_URL",
)
OPTIONAL_SETTINGS = ("MAX_TEXT_CHARS", "LLM_API_KEY_SECRET", "LLM_MODEL", "OPENAI_BASE_URL")
require_settings(REQUIRED_SETTINGS, OPTIONAL_SETTINGS)

# Writes the executive summary of an llm or auto task's report; openai is imported only for the first.
llm_engine = LazyLlmEngine()
MARK_READY_SECONDS = 30


def record_handler(record: SQSRecord, lambda_context: LambdaContext) -> None:
    logger.set_correlation_id(correlation_id_of(record.message_attributes))
    request = FinalizeRequest.model_validate_json(record.body)
    # Built here from this module's factories, which a test or the fault injector may replace.
    finalizer = Finalizer(
        tasks=task_repository(),
        input_files=input_files(),
        result_files=result_files(),
        settings=get_settings(),
        parts=EngineParts(get_settings(), llm=llm_engine),
        # A task that teaches a model (options.teach) asks for it once ready.
        # A taught-first task's counted sample asks for its model here (and for its rest if none can be).
        teaching=Teaching(models=model_repository(), queue=training_queue(), rest=ingest_queue()),
    )
    # The summary's LLM request gives up in time to mark the task ready within the timeout.
    deadline = time.monotonic() + lambda_context.get_remaining_time_in_millis() / 1000 - MARK_READY_SECONDS
    finalize_request(request, finalizer, deadline=deadline)


handler = sqs_lambda_handler(record_handler)
