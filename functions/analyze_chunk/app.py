"""Lambda entry point of the analyzer: chunks from the work queue → results and counters."""

import time

# Powertools' batch module before pydantic: imported after it, it builds all of its parser's
# event models (about 30 ms of CPU at a cold start), which these handlers never use.
import aws_lambda_powertools.utilities.batch  # noqa: F401
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from reviewpulse.analysis.engines.base import EngineParts
from reviewpulse.analysis.lazy_lexicon import LazyLexiconAnalyzer
from reviewpulse.analysis.llm.lazy import LazyLlmEngine
from reviewpulse.observability import logger
from reviewpulse.queues import WorkMessage, correlation_id_of
from reviewpulse.settings import get_settings, require_settings
from reviewpulse.usecases.analyze_chunk import AnalyzeChunk, Budgets, ChunkWorker, process_chunk
from reviewpulse.wiring import (
    budget_repository,
    finalize_queue,
    model_files,
    paused_chunks,
    provider_batches,
    result_cache,
    result_files,
    task_repository,
)
from reviewpulse.workers import sqs_lambda_handler

# What this function reads from its environment, checked at cold start; template.yaml sets
# exactly these for it (tests/unit/test_template.py holds both sides).
REQUIRED_SETTINGS = ("TASKS_TABLE_NAME", "DATA_BUCKET_NAME", "FINALIZE_QUEUE_URL", "RESULT_CACHE_TABLE_NAME")
OPTIONAL_SETTINGS = (
    "LLM_API_KEY_SECRET",
    "LLM_MODEL",
    "OPENAI_BASE_URL",
    "LLM_FALLBACK",
    "LLM_REQUESTS_PER_MINUTE",
    "LLM_WORKERS",
    "LLM_INPUT_PRICE_PER_MILLION",
    "LLM_OUTPUT_PRICE_PER_MILLION",
    "BUDGETS_TABLE_NAME",  # the LLM analyzer's: reserves and settles each request against budgets
    # The LLM analyzer's: chunks of Batch API tasks wait in this table for the collector.
    "PROVIDER_BATCHES_TABLE_NAME",
)
require_settings(REQUIRED_SETTINGS, OPTIONAL_SETTINGS)

# Built once per execution environment: the lexicon (VADER, calibration, language model) for the
# first chunk it analyses, the LLM engine (and openai) for the first chunk that asks the LLM.
analyzer = LazyLexiconAnalyzer()
llm_engine = LazyLlmEngine()
STORE_AND_COUNT_SECONDS = 20


def record_handler(record: SQSRecord, lambda_context: LambdaContext) -> None:
    correlation_id = correlation_id_of(record.message_attributes)
    logger.set_correlation_id(correlation_id)
    message = WorkMessage.model_validate_json(record.body)
    settings = get_settings()
    parts = EngineParts(settings, lexicon=analyzer, llm=llm_engine, cache=result_cache(), models=model_files())
    budgets = Budgets(budget_repository(), paused_chunks()) if settings.budgets_table_name else None
    # Built here from this module's factories, which a test or the fault injector may replace.
    worker = ChunkWorker(
        parts=parts,
        tasks=task_repository(),
        result_files=result_files(),
        finalizer=finalize_queue(),
        budgets=budgets,
        provider_batches=provider_batches(),
    )
    # LLM requests stop in time to store and count the chunk before the function's timeout.
    deadline = time.monotonic() + lambda_context.get_remaining_time_in_millis() / 1000 - STORE_AND_COUNT_SECONDS
    process_chunk(AnalyzeChunk(message, correlation_id=correlation_id, deadline=deadline), worker)


handler = sqs_lambda_handler(record_handler)
