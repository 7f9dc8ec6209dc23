"""The production collaborators, built from settings and cached boto3 clients.

Handlers and FastAPI dependencies call these; tests may pass their own collaborators to the
use cases instead.
"""

from __future__ import annotations

from reviewpulse.analysis.cache import ResultCache
from reviewpulse.aws import client
from reviewpulse.cursors import CursorSigner
from reviewpulse.queues import FinalizeQueue, WorkQueue
from reviewpulse.settings import get_settings
from reviewpulse.storage.inputs import InputFiles
from reviewpulse.storage.result_files import ResultFiles
from reviewpulse.tasks.repository import TaskRepository
from reviewpulse.tenants.keys import KeyRepository


def task_repository() -> TaskRepository:
    return TaskRepository(get_settings().tasks_table_name, client("dynamodb"))


def key_repository() -> KeyRepository:
    return KeyRepository(get_settings().keys_table_name, client("dynamodb"))


def input_files() -> InputFiles:
    return InputFiles(get_settings().data_bucket_name, client("s3"))


def result_files() -> ResultFiles:
    return ResultFiles(get_settings().data_bucket_name, client("s3"))


def cursor_signer() -> CursorSigner:
    def key() -> bytes:
        # Imported here: only functions that page pay for Powertools Parameters.
        from reviewpulse.signing_key import cursor_signing_key

        return cursor_signing_key(get_settings())

    return CursorSigner(key)


def work_queue() -> WorkQueue:
    settings = get_settings()
    return WorkQueue(settings.work_queue_url, client("sqs"), llm_queue_url=settings.llm_work_queue_url)


def finalize_queue() -> FinalizeQueue:
    return FinalizeQueue(get_settings().finalize_queue_url, client("sqs"))


def result_cache() -> ResultCache:
    settings = get_settings()
    return ResultCache(settings.result_cache_table_name, client("dynamodb"), ttl_days=settings.result_cache_ttl_days)
