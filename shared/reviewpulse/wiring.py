"""The production collaborators, built from settings and cached boto3 clients.

Handlers and FastAPI dependencies call these; tests may pass their own collaborators to the
use cases instead. Each factory imports its collaborator's module itself, so a function loads only
what it wires (the authorizer, say, never loads the task model, the queues or the bucket's code).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reviewpulse.aws import client
from reviewpulse.settings import get_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer

    from reviewpulse.analysis.cache import ResultCache
    from reviewpulse.cursors import CursorSigner
    from reviewpulse.queues import FinalizeQueue, IngestQueue, WorkQueue
    from reviewpulse.storage.inputs import InputFiles
    from reviewpulse.storage.paused_chunks import PausedChunks
    from reviewpulse.storage.result_files import ResultFiles
    from reviewpulse.tasks.repository import TaskRepository
    from reviewpulse.tenants.budgets import BudgetRepository
    from reviewpulse.tenants.keys import KeyRepository


def task_repository() -> TaskRepository:
    from reviewpulse.tasks.repository import TaskRepository

    return TaskRepository(get_settings().tasks_table_name, client("dynamodb"))


def key_repository() -> KeyRepository:
    from reviewpulse.tenants.keys import KeyRepository

    return KeyRepository(get_settings().keys_table_name, client("dynamodb"))


def input_files() -> InputFiles:
    from reviewpulse.storage.inputs import InputFiles

    return InputFiles(get_settings().data_bucket_name, client("s3"))


def result_files() -> ResultFiles:
    from reviewpulse.storage.result_files import ResultFiles

    return ResultFiles(get_settings().data_bucket_name, client("s3"))


def paused_chunks() -> PausedChunks:
    from reviewpulse.storage.paused_chunks import PausedChunks

    return PausedChunks(get_settings().data_bucket_name, client("s3"))


def budget_repository() -> BudgetRepository:
    from reviewpulse.tenants.budgets import BudgetRepository

    return BudgetRepository(get_settings().budgets_table_name, client("dynamodb"))


def cursor_signer() -> CursorSigner:
    from reviewpulse.cursors import CursorSigner

    def key() -> bytes:
        # Imported here: only functions that page pay for Powertools Parameters.
        from reviewpulse.signing_key import cursor_signing_key

        return cursor_signing_key(get_settings())

    return CursorSigner(key)


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


def result_cache() -> ResultCache:
    from reviewpulse.analysis.cache import ResultCache

    settings = get_settings()
    return ResultCache(settings.result_cache_table_name, client("dynamodb"), ttl_days=settings.result_cache_ttl_days)


def idempotency_store() -> BasePersistenceLayer:
    """Where Idempotency-Key records live. Imported here: only the create endpoints pay for
    Powertools idempotency, and only for a request that sends a key."""
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(table_name=get_settings().idempotency_table_name, boto3_client=client("dynamodb"))
