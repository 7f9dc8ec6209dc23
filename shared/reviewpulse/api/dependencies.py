"""Collaborators the routes get through FastAPI's dependency injection (overridable in tests)."""

from reviewpulse.settings import Settings, get_settings
from reviewpulse.wiring import cursor_signer, result_store, task_repository, work_queue


def settings() -> Settings:
    return get_settings()


__all__ = ["settings", "cursor_signer", "result_store", "task_repository", "work_queue"]
