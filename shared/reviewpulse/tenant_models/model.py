"""The tenant model record and its status transitions (training → ready | failed).

A record names where its labels came from and what training found; it never holds customer text
(the model card has counts, not examples)."""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from enum import Enum
from typing import Any

from pydantic import BaseModel, Field

from reviewpulse.clock import now

MODEL_ID_PREFIX = "mdl_"
MODEL_ID_PATTERN = re.compile(r"^mdl_[0-9a-f]{16}$")
# Each model is listed in one answer and kept in the bucket: a few dozen are plenty for a tenant.
MAX_MODELS_PER_TENANT = 50


class ModelStatus(str, Enum):
    TRAINING = "training"  # queued or being fitted; never served
    READY = "ready"  # its artifact is written: tasks may name it
    FAILED = "failed"  # see its error's code

    @property
    def is_terminal(self) -> bool:
        return self is not ModelStatus.TRAINING


class ModelError(BaseModel):
    code: str  # one of reviewpulse.errors.MODEL_ERROR_CODES
    detail: str


class ModelSource(BaseModel):
    """Where the labels come from: a ready batch task of the tenant, and either the column holding
    them (`label_field`) or, for a model taught from the LLM (`teach_sample`), the LLM's answers to
    that task's teaching sample (analysis/teach.py chooses the rows)."""

    task_id: str
    label_field: str | None = None
    teach_sample: int | None = None
    # A taught model made the tenant's default once ready (options.teach.set_default).
    teach_set_default: bool = False


class TenantModel(BaseModel):
    tenant: str
    model_id: str
    name: str | None = None
    status: ModelStatus
    created_at: datetime
    updated_at: datetime
    source: ModelSource
    correlation_id: str | None = None
    # Once ready: the artifact's version (the learning library's) and its model card.
    version: str | None = None
    card: dict[str, Any] | None = None
    # Rows read for training, by what became of them (labelled per class, skipped and why).
    counts: dict[str, int] = Field(default_factory=dict)
    # What the client should know about how it was trained (e.g. label values left out).
    notes: list[str] = Field(default_factory=list)
    error: ModelError | None = None

    @classmethod
    def new(cls, tenant: str, source: ModelSource, *, name: str | None, correlation_id: str | None) -> TenantModel:
        created = now()
        return cls(
            tenant=tenant,
            model_id=new_model_id(),
            name=name,
            status=ModelStatus.TRAINING,
            created_at=created,
            updated_at=created,
            source=source,
            correlation_id=correlation_id,
        )


def new_model_id() -> str:
    return MODEL_ID_PREFIX + secrets.token_hex(8)


def is_valid_model_id(value: str) -> bool:
    return bool(MODEL_ID_PATTERN.match(value))
