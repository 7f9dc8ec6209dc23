"""Bodies of the models resource (a tenant's own models, trained from its labelled rows)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from reviewpulse.tenant_models.model import ModelError, ModelSource, ModelStatus, TenantModel


class CreateModelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    task_id: str = Field(
        min_length=1, max_length=64, description="A ready batch task of yours whose file has a label column"
    )
    label_field: str = Field(
        min_length=1,
        max_length=256,
        description=(
            "The column holding your labels: positive/negative/neutral/mixed (any case), pos/neg, "
            "-1/0/1, 0/1 or 1-5 stars (README, Tenant models, gives the mapping)"
        ),
        examples=["stars"],
    )
    name: str | None = Field(default=None, min_length=1, max_length=100, description="Your name for it")


class SetDefaultModelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model_id: str | None = Field(
        description="A ready model of yours, used by your new tasks that name no model; null: no default"
    )


class DefaultModelView(BaseModel):
    model_id: str | None


class ModelView(BaseModel):
    model_id: str
    name: str | None = None
    status: ModelStatus
    created_at: datetime
    updated_at: datetime
    source: ModelSource
    version: str | None = Field(default=None, description="The artifact's version; results name it")
    card: dict[str, Any] | None = Field(
        default=None, description="The model card (rows, classes, cross-validated figures, library versions)"
    )
    counts: dict[str, int] = Field(description="The training file's rows by what became of them")
    notes: list[str] = Field(default_factory=list, description="How it was trained, e.g. label values left out")
    error: ModelError | None = None
    is_default: bool = False

    @classmethod
    def of(cls, model: TenantModel, *, default_model_id: str | None = None) -> ModelView:
        return cls(
            **model.model_dump(exclude={"tenant", "correlation_id"}),
            is_default=model.model_id == default_model_id,
        )


class ModelList(BaseModel):
    items: list[ModelView]
    default_model_id: str | None = None
