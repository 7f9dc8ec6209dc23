"""Collaborators the routes get through FastAPI's dependency injection (overridable in tests)."""

from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

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

T = TypeVar("T")


def on_the_loop(build: Callable[[], T]) -> Callable[[], Coroutine[Any, Any, T]]:
    """`build` as a dependency FastAPI calls on its event loop. A plain function it calls on a
    worker thread, and under Mangum each Lambda invocation starts that thread anew (anyio stops an
    event loop's workers with the task that started them, here each invocation's) and hands every
    call over to it and back: for POST /v1/analyze (its scope check, three collaborators, route and
    response) about 2 ms of CPU a request, near what the lexicon needs for 25 texts (docs/figures.md). The wiring's builders read only
    settings and objects built once, so they cannot hold the loop up."""

    async def dependency() -> T:
        return build()

    dependency.__name__ = dependency.__qualname__ = build.__name__
    return dependency


def settings() -> Settings:
    return get_settings()


def idempotency_store() -> Callable[[], Any]:
    """The factory of the Idempotency-Key store, not the store: it is built only for requests
    that send a key."""
    return wiring.idempotency_store


__all__ = [
    "on_the_loop",
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
