"""Configuration from the environment, validated once per process.

A plain pydantic model read from os.environ (field name upper-cased): the same validation as
pydantic-settings without its import cost, which every cold start would pay.
"""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    """Every knob the functions read. Names match the template's environment variables."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    tasks_table_name: str = "reviewpulse-tasks"
    keys_table_name: str = "reviewpulse-keys"
    data_bucket_name: str = "reviewpulse-data"
    work_queue_url: str = ""
    finalize_queue_url: str = ""
    idempotency_table_name: str = "reviewpulse-idempotency"

    # Rows whose text is longer than this become per-row errors (documented in the README). The
    # cap keeps one item well inside an SQS message.
    max_text_chars: int = Field(default=5000, ge=1, le=20_000)
    # Upper bound for a batch upload, enforced by the presigned POST policy.
    max_upload_bytes: int = Field(default=100 * 1024 * 1024, ge=1)
    upload_url_ttl_seconds: int = Field(default=900, ge=60, le=7 * 24 * 3600)
    results_url_ttl_seconds: int = Field(default=3600, ge=60, le=7 * 24 * 3600)
    # Items per work-queue message, and a byte cap that keeps a message under SQS's 256 KiB.
    chunk_max_items: int = Field(default=1000, ge=1)
    chunk_max_bytes: int = Field(default=200_000, ge=1_000, le=250_000)
    task_ttl_days: int = Field(default=30, ge=1)
    # The sweeper ends a batch whose file never came, and a task whose progress stopped.
    upload_deadline_minutes: int = Field(default=60, ge=1)
    stall_deadline_minutes: int = Field(default=300, ge=1)

    @classmethod
    def from_environment(cls) -> Settings:
        values = {name: os.environ[name.upper()] for name in cls.model_fields if name.upper() in os.environ}
        return cls.model_validate(values)


@cache
def get_settings() -> Settings:
    return Settings.from_environment()
