"""Lambda entry point of the Batch API collector (EventBridge Scheduler, every 2 minutes): submits
waiting chunks to the provider's Batch API, collects answers, resubmits what is unanswered, counts."""

import time

from reviewpulse.analysis.engines.base import EngineParts
from reviewpulse.analysis.lazy_lexicon import LazyLexiconAnalyzer
from reviewpulse.analysis.llm.pricing import Prices
from reviewpulse.observability import logger, metrics, tracer
from reviewpulse.settings import get_settings, require_settings
from reviewpulse.usecases.collect_batches import Collector
from reviewpulse.usecases.spend import BatchSpend
from reviewpulse.wiring import (
    batch_api,
    budget_repository,
    finalize_queue,
    model_files,
    provider_batches,
    result_files,
    task_repository,
)

# What this function reads from its environment, checked at cold start; template.yaml sets
# exactly these for it (tests/unit/test_template.py holds both sides).
REQUIRED_SETTINGS = ("TASKS_TABLE_NAME", "DATA_BUCKET_NAME", "FINALIZE_QUEUE_URL", "PROVIDER_BATCHES_TABLE_NAME")
OPTIONAL_SETTINGS = (
    "LLM_API_KEY_SECRET",
    "LLM_MODEL",
    "OPENAI_BASE_URL",
    "LLM_FALLBACK",
    "BUDGETS_TABLE_NAME",  # each provider batch is reserved and settled against the budgets
    "LLM_INPUT_PRICE_PER_MILLION",
    "LLM_OUTPUT_PRICE_PER_MILLION",
)
require_settings(REQUIRED_SETTINGS, OPTIONAL_SETTINGS)

# The lexicon answers what auto settles without the LLM, and what the fallback policy gives.
analyzer = LazyLexiconAnalyzer()
# Stop taking tasks this long before the timeout: one task's work must still fit.
SPARE_SECONDS = 60


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event, context):
    settings = get_settings()
    tasks, records = task_repository(), provider_batches()
    spend = BatchSpend(
        tasks=tasks,
        budgets=budget_repository() if settings.budgets_table_name else None,
        provider_batches=records,
        prices=Prices.of(settings),
    )
    collector = Collector(
        provider_batches=records,
        tasks=tasks,
        result_files=result_files(),
        finalizer=finalize_queue(),
        api=batch_api(),
        parts=EngineParts(settings, lexicon=analyzer, models=model_files()),
        spend=spend,
    )
    outcome = collector.run(deadline=time.monotonic() + context.get_remaining_time_in_millis() / 1000 - SPARE_SECONDS)
    return {
        "tasks": outcome.tasks,
        "submitted": outcome.submitted,
        "answers": outcome.answers,
        "counted": outcome.counted,
        "failed": outcome.failed,
    }
