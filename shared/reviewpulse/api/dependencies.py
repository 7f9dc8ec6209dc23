"""Collaborators the routes get through FastAPI's dependency injection (overridable in tests)."""

from reviewpulse.settings import Settings, get_settings
from reviewpulse.wiring import cursor_signer, input_files, result_files, task_repository, work_queue


def settings() -> Settings:
    return get_settings()


__all__ = ["settings", "cursor_signer", "input_files", "result_files", "task_repository", "work_queue"]
