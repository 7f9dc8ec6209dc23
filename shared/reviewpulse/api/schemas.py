"""Request and response bodies: the fields clients rely on."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from reviewpulse.tasks.model import Progress, Summary, Task, TaskError, TaskStatus, TaskType


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreateTaskRequest(_Strict):
    text: str = Field(min_length=1, description="The text to analyse")
    id: str | None = Field(default=None, min_length=1, max_length=256, description="Your id for this text")


class CreateBatchRequest(_Strict):
    filename: str = Field(min_length=1, max_length=1024)
    format: str | None = Field(
        default=None,
        max_length=16,
        description="csv, json, jsonl or txt; told from the file name when left out",
        examples=["csv"],
    )
    text_field: str | None = Field(default=None, min_length=1, max_length=256)
    id_field: str | None = Field(default=None, min_length=1, max_length=256)


class Links(BaseModel):
    self: str
    results: str


class TaskView(BaseModel):
    task_id: str
    type: TaskType
    status: TaskStatus
    created_at: datetime
    updated_at: datetime
    filename: str | None = None
    format: str | None = None
    progress: Progress
    summary: Summary | None = None
    error: TaskError | None = None
    links: Links

    @classmethod
    def of(cls, task: Task) -> TaskView:
        base = f"/v1/tasks/{task.task_id}"
        return cls(
            task_id=task.task_id,
            type=task.type,
            status=task.status,
            created_at=task.created_at,
            updated_at=task.updated_at,
            filename=task.filename,
            format=task.format,
            progress=task.progress,
            summary=task.summary,
            error=task.error,
            links=Links(self=base, results=f"{base}/results"),
        )


class UploadView(BaseModel):
    url: str
    fields: dict[str, str]
    expires_at: datetime
    max_bytes: int


class BatchCreated(BaseModel):
    task: TaskView
    upload: UploadView


class TaskPage(BaseModel):
    items: list[TaskView]
    next_cursor: str | None


class ItemErrorView(BaseModel):
    code: str
    detail: str


class ResultItem(BaseModel):
    row: int
    id: str
    label: Literal["positive", "negative", "neutral", "mixed"] | None = None
    score: float | None = None
    confidence: float | None = None
    engine: str | None = None
    error: ItemErrorView | None = None


class ResultFiles(BaseModel):
    jsonl: str
    csv: str
    expires_at: datetime


class ResultPage(BaseModel):
    items: list[ResultItem]
    next_cursor: str | None
    files: ResultFiles


class Health(BaseModel):
    status: Literal["ok"]
    checks: dict[str, Any]
