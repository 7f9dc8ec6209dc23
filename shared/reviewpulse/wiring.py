"""The production collaborators, built from settings and cached boto3 clients.

Handlers and FastAPI dependencies call these; tests may pass their own collaborators to the
use cases instead. Each factory imports its collaborator's module itself, so a function loads only
what it wires (the authorizer, say, never loads the task model, the queues or the bucket's code).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, cached_property
from typing import TYPE_CHECKING

from reviewpulse.aws import client
from reviewpulse.settings import get_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer

    from reviewpulse.analysis.cache import ResultCache
    from reviewpulse.analysis.llm.batch_api import BatchApi
    from reviewpulse.cursors import CursorSigner
    from reviewpulse.events import EventBus
    from reviewpulse.provider_batches.repository import ProviderBatchRepository
    from reviewpulse.queues import FinalizeQueue, IngestQueue, WorkQueue
    from reviewpulse.settings import Settings
    from reviewpulse.storage.inputs import InputFiles
    from reviewpulse.storage.model_files import ModelFiles
    from reviewpulse.storage.paused_chunks import PausedChunks
    from reviewpulse.storage.result_files import ResultFiles
    from reviewpulse.tasks.model import Task
    from reviewpulse.tasks.repository import TaskRepository
    from reviewpulse.tenant_models.queue import TrainingQueue
    from reviewpulse.tenant_models.repository import ModelRepository
    from reviewpulse.tenants.budgets import BudgetRepository
    from reviewpulse.tenants.keys import KeyRepository
    from reviewpulse.usecases.analyze_texts import Answering
    from reviewpulse.usecases.create_batch import BatchCreation
    from reviewpulse.usecases.create_task import TaskQueueing
    from reviewpulse.usecases.deliver_webhooks import Deliveries
    from reviewpulse.usecases.erase_tenant import TenantData
    from reviewpulse.usecases.models import TrainingRequests
    from reviewpulse.usecases.resume_task import Resuming
    from reviewpulse.usecases.split import Splitter
    from reviewpulse.usecases.train_model import Fit
    from reviewpulse.usecases.webhooks import WebhookAdmin
    from reviewpulse.webhooks.queue import DeliveryQueue
    from reviewpulse.webhooks.store import SecretBox, WebhookRepository


def task_repository() -> TaskRepository:
    """A dropped file's end, won by this repository, gets its receipt in outgoing/ (functions
    that can end a drop are given DATA_BUCKET_NAME). Completion events do not come from here but
    from the table's stream (usecases.notify, PublishTaskEventsFunction)."""
    from reviewpulse.tasks.repository import TaskRepository

    settings = get_settings()
    on_ended: Callable[[Task], object] | None = None
    if settings.data_bucket_name:
        from reviewpulse.usecases import deliver_drop

        files = result_files()

        def on_ended(task: Task) -> object:
            return deliver_drop.task_ended(task, files)

    return TaskRepository(settings.tasks_table_name, client("dynamodb"), on_ended=on_ended)


def event_bus() -> EventBus:
    from reviewpulse.events import EventBus

    return EventBus(get_settings().event_bus_name, client("events"))


def key_repository() -> KeyRepository:
    from reviewpulse.tenants.keys import KeyRepository

    return KeyRepository(get_settings().keys_table_name, client("dynamodb"))


def input_files() -> InputFiles:
    from reviewpulse.storage.inputs import InputFiles

    return InputFiles(get_settings().data_bucket_name, client("s3"))


def result_files() -> ResultFiles:
    from reviewpulse.storage.result_files import ResultFiles

    return ResultFiles(get_settings().data_bucket_name, client("s3"))


def model_files() -> ModelFiles:
    """Tenants' model artifacts in the data bucket (the analyzers' ModelStore)."""
    from reviewpulse.storage.model_files import ModelFiles

    return ModelFiles(get_settings().data_bucket_name, client("s3"))


def paused_chunks() -> PausedChunks:
    from reviewpulse.storage.paused_chunks import PausedChunks

    return PausedChunks(get_settings().data_bucket_name, client("s3"))


def budget_repository() -> BudgetRepository:
    from reviewpulse.tenants.budgets import BudgetRepository

    return BudgetRepository(get_settings().budgets_table_name, client("dynamodb"))


def cursor_signer() -> CursorSigner:
    from reviewpulse.cursors import CursorSigner

    # Imported when first used: only functions that page pay for Powertools Parameters.
    def key() -> bytes:
        from reviewpulse.signing_key import cursor_signing_keys

        return cursor_signing_keys(get_settings()).current

    def previous() -> tuple[bytes, ...]:
        from reviewpulse.signing_key import cursor_signing_keys

        return cursor_signing_keys(get_settings()).previous

    def reload() -> bool:
        from reviewpulse.signing_key import reload_cursor_signing_keys

        return reload_cursor_signing_keys(get_settings())

    return CursorSigner(key, previous=previous, reload=reload)


def task_queueing() -> TaskQueueing:
    """The collaborators of the routes that queue a text task (usecases/create_task.py)."""
    from reviewpulse.usecases.create_task import TaskQueueing

    return TaskQueueing(tasks=task_repository(), queue=work_queue(), settings=get_settings())


@cache
def _analyzers(settings: Settings) -> tuple:
    """Built once per execution environment and its settings (which a Lambda never changes; tests
    do): the lexicon analyzer, and the LLM engine — with its circuit breaker and pacing — whose
    client (and openai) is built only for the first request that asks the LLM."""
    from reviewpulse.analysis.lexicon_analyzer import LexiconAnalyzer
    from reviewpulse.analysis.llm.lazy import LazyLlmEngine

    return LexiconAnalyzer(), LazyLlmEngine(lambda: settings)


def answering() -> Answering:
    """POST /v1/analyze's collaborators (usecases/analyze_texts.py): the engines' parts (the
    result cache and tenants' models where the deployment gives them) and the monthly budgets."""
    from reviewpulse.analysis.engines.base import EngineParts
    from reviewpulse.usecases.analyze_texts import Answering

    settings = get_settings()
    lexicon, llm = _analyzers(settings)
    parts = EngineParts(
        settings,
        lexicon=lexicon,
        llm=llm,
        cache=result_cache() if settings.result_cache_table_name else None,
        # Tenants' models (options.model_id), where the deployment gives this function its bucket.
        models=model_files() if settings.data_bucket_name else None,
    )
    # The tenants' monthly budgets, where the deployment has them (BUDGETS_TABLE_NAME).
    return Answering(parts, budgets=budget_repository() if settings.budgets_table_name else None)


def resuming() -> Resuming:
    """POST /v1/tasks/{task_id}/resume's collaborators (usecases/resume_task.py)."""
    from reviewpulse.usecases.resume_task import Resuming

    return Resuming(
        tasks=task_repository(),
        budgets=budget_repository(),
        paused_chunks=paused_chunks(),
        queue=work_queue(),
        settings=get_settings(),
    )


def batch_creation() -> BatchCreation:
    """POST /v1/batches' collaborators (usecases/create_batch.py)."""
    from reviewpulse.usecases.create_batch import BatchCreation

    return BatchCreation(tasks=task_repository(), input_files=input_files(), settings=get_settings())


def splitter() -> Splitter:
    """The split function's collaborators (usecases/split.py), for its current settings."""
    from reviewpulse.usecases.split import DropChecks, Splitter

    return Splitter(
        tasks=task_repository(),
        input_files=input_files(),
        queue=work_queue(),
        finalizer=finalize_queue(),
        settings=get_settings(),
        ingest=ingest_queue() if get_settings().ingest_queue_url else None,
        drops=DropChecks(
            keys=key_repository(),
            result_files=result_files(),
            models=model_repository() if get_settings().models_table_name else None,
        ),
    )


def work_queue() -> WorkQueue:
    from reviewpulse.queues import WorkQueue

    settings = get_settings()
    return WorkQueue(settings.work_queue_url, client("sqs"), llm_queue_url=settings.llm_work_queue_url)


def ingest_queue() -> IngestQueue:
    from reviewpulse.queues import IngestQueue

    return IngestQueue(get_settings().ingest_queue_url, client("sqs"))


def finalize_queue() -> FinalizeQueue:
    from reviewpulse.queues import FinalizeQueue

    return FinalizeQueue(get_settings().finalize_queue_url, client("sqs"))


def provider_batches() -> ProviderBatchRepository | None:
    """Batch API mode's records, where this function is given their table (None elsewhere)."""
    from reviewpulse.provider_batches.repository import ProviderBatchRepository

    name = get_settings().provider_batches_table_name
    return ProviderBatchRepository(name, client("dynamodb")) if name else None


def batch_api() -> BatchApi:
    """The provider's Batch API, built at its first call (it imports openai, about 0.6 s): the
    collector's runs that find no batch to submit or poll never build it."""

    def build() -> BatchApi:
        from reviewpulse.analysis.llm.client import build_batch_api

        return build_batch_api(settings)

    settings = get_settings()
    return _BuiltAtFirstUse(build)  # type: ignore[return-value]  # it stands in for a BatchApi


class _BuiltAtFirstUse:
    """Stands in for what `build` makes, and makes it at the first use of any of its members."""

    def __init__(self, build: Callable[[], object]) -> None:
        self._build = build

    @cached_property
    def built(self) -> object:
        return self._build()

    def __getattr__(self, name: str) -> object:
        return getattr(self.built, name)


def result_cache() -> ResultCache:
    from reviewpulse.analysis.cache import ResultCache

    settings = get_settings()
    return ResultCache(settings.result_cache_table_name, client("dynamodb"), ttl_days=settings.result_cache_ttl_days)


def idempotency_store() -> BasePersistenceLayer:
    """Where Idempotency-Key records live. Imported here: only the create endpoints pay for
    Powertools idempotency, and only for a request that sends a key."""
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(table_name=get_settings().idempotency_table_name, boto3_client=client("dynamodb"))


def webhook_repository() -> WebhookRepository:
    from reviewpulse.webhooks.store import WebhookRepository

    return WebhookRepository(get_settings().webhooks_table_name, client("dynamodb"))


def webhook_secrets() -> SecretBox:
    from reviewpulse.webhooks.store import SecretBox

    return SecretBox(get_settings().webhook_secrets_key_id, client("kms"))


def delivery_queue() -> DeliveryQueue:
    from reviewpulse.webhooks.queue import DeliveryQueue

    settings = get_settings()
    return DeliveryQueue(settings.webhook_queue_url, settings.webhook_dead_letter_queue_url, client("sqs"))


def webhook_admin() -> WebhookAdmin:
    """The webhook routes' collaborators (usecases/webhooks.py)."""
    from reviewpulse.usecases.webhooks import WebhookAdmin
    from reviewpulse.webhooks.addresses import parse_allowed

    allowed = parse_allowed(get_settings().webhook_allowed_addresses)
    return WebhookAdmin(webhooks=webhook_repository(), secrets=webhook_secrets(), allowed=allowed)


def webhook_deliveries() -> Deliveries:
    """The webhook function's collaborators (usecases/deliver_webhooks.py), for its current settings."""
    from reviewpulse.usecases.deliver_webhooks import Deliveries, RetryPolicy
    from reviewpulse.webhooks.addresses import parse_allowed

    settings = get_settings()
    return Deliveries(
        webhooks=webhook_repository(),
        secrets=webhook_secrets(),
        queue=delivery_queue(),
        policy=RetryPolicy(
            base_seconds=settings.webhook_retry_base_seconds,
            horizon_seconds=settings.webhook_retry_hours * 3600,
            timeout_seconds=settings.webhook_timeout_seconds,
        ),
        allowed=parse_allowed(settings.webhook_allowed_addresses),
    )


def tenant_data() -> TenantData:
    """Everything erasure removes. Its task repository announces nothing: a tenant whose data is
    being erased gets no completion events or drop receipts for the tasks it cancels."""
    from reviewpulse.storage.objects import BucketObjects
    from reviewpulse.tasks.repository import TaskRepository
    from reviewpulse.usecases.erase_tenant import TenantData

    settings = get_settings()
    return TenantData(
        tasks=TaskRepository(settings.tasks_table_name, client("dynamodb")),
        objects=BucketObjects(settings.data_bucket_name, client("s3")),
        webhooks=webhook_repository(),
        budgets=budget_repository(),
        cache=result_cache() if settings.result_cache_table_name else None,
        provider_batches=provider_batches(),
        models=model_repository() if settings.models_table_name else None,
    )


def rotate_cursor_signing_secret(step: str, secret_id: str, token: str) -> None:
    from reviewpulse.signing_key import rotate_step

    rotate_step(step, secret_id, token, client("secretsmanager"))


def model_repository() -> ModelRepository:
    from reviewpulse.tenant_models.repository import ModelRepository

    return ModelRepository(get_settings().models_table_name, client("dynamodb"))


def training_queue() -> TrainingQueue:
    from reviewpulse.tenant_models.queue import TrainingQueue

    return TrainingQueue(get_settings().training_queue_url, client("sqs"))


def training_requests() -> TrainingRequests:
    """POST /v1/models' collaborators (usecases/models.py)."""
    from reviewpulse.usecases.models import TrainingRequests

    return TrainingRequests(tasks=task_repository(), models=model_repository(), queue=training_queue())


def model_artifacts() -> ModelFiles:
    """Where fitted models are kept: the bucket's models/ prefix (storage.model_files)."""
    from reviewpulse.storage.model_files import ModelFiles

    return ModelFiles(get_settings().data_bucket_name, client("s3"))


def model_trainer() -> Fit:
    """The learning library's training (imports scikit-learn: only the training function calls it)."""
    from reviewpulse.analysis.models.training import train

    return train
