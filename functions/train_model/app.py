"""Lambda entry point of the training function: one message of the training queue per model,
fitted with scikit-learn (in this function's own layer only)."""

# Powertools' batch module before pydantic: imported after it, it builds all of its parser's
# event models (about 30 ms of CPU at a cold start), which these handlers never use.
import aws_lambda_powertools.utilities.batch  # noqa: F401
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from reviewpulse.observability import logger
from reviewpulse.queues import correlation_id_of
from reviewpulse.settings import get_settings, require_settings
from reviewpulse.tenant_models.queue import TrainingRequest
from reviewpulse.usecases.train_model import Training, TrainModel, results_from_parts, train_model
from reviewpulse.wiring import (
    ingest_queue,
    input_files,
    model_artifacts,
    model_repository,
    model_trainer,
    result_files,
    task_repository,
)
from reviewpulse.workers import sqs_lambda_handler

# What this function reads from its environment, checked at cold start; template.yaml sets
# exactly these for it (tests/unit/test_template.py holds both sides).
REQUIRED_SETTINGS = (
    "TASKS_TABLE_NAME",
    "MODELS_TABLE_NAME",
    "DATA_BUCKET_NAME",
    "TRAINING_MAX_RECEIVE_COUNT",
    "INGEST_QUEUE_URL",
)
OPTIONAL_SETTINGS = ("MAX_TEXT_CHARS",)
require_settings(REQUIRED_SETTINGS, OPTIONAL_SETTINGS)


def fit(texts, labels):
    # scikit-learn is imported on the first fit, never for labels refused before it.
    return model_trainer()(texts, labels)


def record_handler(record: SQSRecord) -> None:
    logger.set_correlation_id(correlation_id_of(record.message_attributes))
    settings = get_settings()
    # Built here from this module's factories, which a test or the fault injector may replace.
    training = Training(
        models=model_repository(),
        tasks=task_repository(),
        input_files=input_files(),
        artifacts=model_artifacts,
        fit=fit,
        settings=settings,
        # A model taught from the LLM reads the teaching sample's answers from the task's parts.
        task_results=results_from_parts(result_files()),
        # A model taught first from its task's sample: once it ends, the rest of that task is split.
        rest=ingest_queue(),
    )
    # On the queue's last delivery a model that keeps failing ends `failed`, never stuck training.
    last_attempt = int(record.attributes.approximate_receive_count) >= settings.training_max_receive_count
    train_model(TrainModel(TrainingRequest.model_validate_json(record.body), last_attempt), training)


handler = sqs_lambda_handler(record_handler)
