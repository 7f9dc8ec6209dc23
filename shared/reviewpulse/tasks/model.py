"""The task model and its status transitions."""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from datetime import UTC, datetime
from enum import Enum

from pydantic import BaseModel, Field

from reviewpulse.analysis.base import Usage
from reviewpulse.analysis.options import AnalysisOptions
from reviewpulse.results.conversations import ConversationsSummary

TASK_ID_PATTERN = re.compile(r"^[0-9a-f]{28}$")


class TaskType(str, Enum):
    TEXT = "text"
    BATCH = "batch"
    DROP = "drop"


class TaskStatus(str, Enum):
    ACCEPTED = "accepted"  # created; for a batch, waiting for its upload
    QUEUED = "queued"  # its items are on the work queue
    PROCESSING = "processing"  # at least one chunk is done
    READY = "ready"
    ERROR = "error"
    CANCELLED = "cancelled"  # stopped by its owner; chunks still queued are skipped

    @property
    def is_terminal(self) -> bool:
        return self in (TaskStatus.READY, TaskStatus.ERROR, TaskStatus.CANCELLED)


class TaskError(BaseModel):
    code: str
    detail: str


class Progress(BaseModel):
    # `total` is unknown (None) until a batch file has been split.
    total: int | None = None
    processed: int = 0  # items with a sentiment result
    failed: int = 0  # items with a per-row error


class ThemeCount(BaseModel):
    theme: str
    polarity: str  # praise | complaint
    count: int  # items that mention it
    example_ids: list[str]


class Report(BaseModel):
    """The batch's main themes, counted from the per-item results, and an executive summary."""

    themes: list[ThemeCount]
    executive_summary: str
    written_by: str  # llm, or template when no LLM wrote it


class Summary(BaseModel):
    counts: dict[str, int]
    percentages: dict[str, float]
    mean_score: float | None
    conversations: ConversationsSummary | None = None  # for files of chat conversations


class Task(BaseModel):
    tenant: str
    task_id: str
    type: TaskType
    status: TaskStatus
    created_at: datetime
    updated_at: datetime
    correlation_id: str | None = None
    # Batch and drop tasks: where the input lives and how to read it.
    filename: str | None = None
    format: str | None = None
    text_field: str | None = None
    id_field: str | None = None
    source_key: str | None = None
    columns: list[str] | None = None  # the input's own columns, known once split
    chunk_count: int | None = None
    source_etag: str | None = None  # the version of the input that was split; finalize reads the same
    # Chunk index → the attempt whose results part was counted. Written in the same conditional
    # update that adds the chunk's counts, so exactly one attempt per chunk counts.
    parts: dict[str, str] = Field(default_factory=dict)
    progress: Progress = Field(default_factory=Progress)
    options: AnalysisOptions = Field(default_factory=AnalysisOptions)
    # What the LLM spent on it, added up chunk by chunk with the counts.
    usage: Usage = Field(default_factory=Usage)
    summary: Summary | None = None
    report: Report | None = None
    error: TaskError | None = None
    results_key: str | None = None
    results_csv_key: str | None = None
    expires_at: int | None = None

    @property
    def is_complete(self) -> bool:
        """Every item has been counted, as a result or as an error."""
        total = self.progress.total
        return total is not None and self.progress.processed + self.progress.failed == total

    @property
    def needs_finalizing(self) -> bool:
        return self.is_complete and not self.status.is_terminal


def now() -> datetime:
    return datetime.now(UTC)


def new_task_id() -> str:
    """28 hex characters: 12 of milliseconds (so ids sort by creation) and 16 random."""
    return f"{int(time.time() * 1000):012x}{secrets.token_hex(8)}"


def drop_task_id(bucket: str, key: str, version: str) -> str:
    """The id of a task created by a file drop: the same `version` (what identifies one write of
    the object, see workflows.split) always maps to the same id, so a duplicated S3 event cannot
    create a second task."""
    return hashlib.sha256(f"{bucket}\n{key}\n{version}".encode()).hexdigest()[:28]


def is_valid_task_id(value: str) -> bool:
    return bool(TASK_ID_PATTERN.match(value))


def ttl_epoch(created_at: datetime, days: int) -> int:
    return int(created_at.timestamp()) + days * 86_400


def created_key(task: Task) -> str:
    """Sort key of the listing indexes: creation time first, the id breaks ties."""
    return f"{task.created_at.isoformat()}#{task.task_id}"
