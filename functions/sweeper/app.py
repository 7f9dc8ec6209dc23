"""Lambda entry point of the sweeper (EventBridge Scheduler, every 5 minutes)."""

from datetime import timedelta

from reviewpulse.clock import now
from reviewpulse.observability import logger, metrics, tracer
from reviewpulse.settings import get_settings, require_settings
from reviewpulse.usecases.sweep import sweep, sweep_models
from reviewpulse.wiring import ingest_queue, model_repository, task_repository

# What this function reads from its environment, checked at cold start; template.yaml sets
# exactly these for it (tests/unit/test_template.py holds both sides).
# DATA_BUCKET_NAME: a dropped file's task that it ends gets its error receipt in outgoing/.
# MODELS_TABLE_NAME, INGEST_QUEUE_URL: models stuck in training fail, and a task taught first
# from one has its rest split without it.
REQUIRED_SETTINGS = ("TASKS_TABLE_NAME", "DATA_BUCKET_NAME", "MODELS_TABLE_NAME", "INGEST_QUEUE_URL")
OPTIONAL_SETTINGS = ("UPLOAD_DEADLINE_MINUTES", "STALL_DEADLINE_MINUTES", "TRAINING_DEADLINE_MINUTES")
require_settings(REQUIRED_SETTINGS, OPTIONAL_SETTINGS)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event, context):
    settings = get_settings()
    outcome = sweep(
        task_repository(),
        now=now(),
        upload_deadline=timedelta(minutes=settings.upload_deadline_minutes),
        stall_deadline=timedelta(minutes=settings.stall_deadline_minutes),
    )
    models = sweep_models(
        model_repository(),
        now=now(),
        deadline=timedelta(minutes=settings.training_deadline_minutes),
        rest=ingest_queue(),
    )
    return {"examined": outcome.examined, "ended": len(outcome.ended), "models_failed": len(models)}
