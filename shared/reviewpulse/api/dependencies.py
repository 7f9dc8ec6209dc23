"""Collaborators the routes get through FastAPI's dependency injection (overridable in tests)."""

from collections.abc import Callable
from typing import Any

from reviewpulse import wiring
from reviewpulse.settings import Settings, get_settings
from reviewpulse.wiring import (
    budget_repository,
    cursor_signer,
    ingest_queue,
    input_files,
    paused_chunks,
    result_files,
    task_repository,
    work_queue,
)


def settings() -> Settings:
    return get_settings()


def idempotency_store() -> Callable[[], Any]:
    """The factory of the Idempotency-Key store, not the store: it is built only for requests
    that send a key."""
    return wiring.idempotency_store


__all__ = [
    "settings",
    "idempotency_store",
    "budget_repository",
    "cursor_signer",
    "ingest_queue",
    "paused_chunks",
    "input_files",
    "result_files",
    "task_repository",
    "work_queue",
]
