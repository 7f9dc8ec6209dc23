"""The task model and its status transitions."""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from datetime import datetime
from enum import Enum
from typing import Any

from pydantic import BaseModel, Field

from reviewpulse.analysis.options import AnalysisOptions
from reviewpulse.analysis.sentiment import Usage
from reviewpulse.clock import now, ttl_epoch
from reviewpulse.ingest.file_spec import FileSpec
from reviewpulse.ingest.formats import FileFormat
from reviewpulse.results.headline import Headline
from reviewpulse.results.summaries import Report, Summary, TaskWarning

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
    QUOTED = "quoted"  # options.quote_only: counted and priced, waiting for POST .../start
    PAUSED = "paused"  # a budget ran out (options.on_budget_exhausted pause): waiting for POST .../resume

    @property
    def is_terminal(self) -> bool:
        return self in (TaskStatus.READY, TaskStatus.ERROR, TaskStatus.CANCELLED)


class Move(str, Enum):
    """What a use case can do to a task's status; `TRANSITIONS` says from where, and to what. The
    repository writes each move as one conditional update whose condition is read from that table,
    so a rule about a task's states is written here once and nowhere else."""

    CLAIM_SOURCE = "claim_source"  # the splitter binds a batch task to its uploaded file
    RECORD_SPLIT = "record_split"  # the whole file was read: its totals are known
    HAND_ON_SPLIT = "hand_on_split"  # the splitter's time ran short: the chunks it queued so far
    QUOTE = "quote"  # options.quote_only: counted and priced, nothing queued
    START_QUOTED = "start_quoted"  # POST .../start
    PAUSE = "pause"  # a budget ran out (options.on_budget_exhausted pause)
    RAISE_BUDGET = "raise_budget"  # POST .../resume with max_cost_usd
    RESUME = "resume"  # POST .../resume
    COUNT_CHUNK = "count_chunk"  # one chunk's counts (a chunk in flight when its task paused still counts)
    CHOOSE_BATCH_MODE = "choose_batch_mode"  # the splitter found the task large enough for the Batch API
    RECORD_LLM_BATCH = "record_llm_batch"  # where its provider batches stand
    FINISH = "finish"  # finalize: merged results and summary
    FAIL = "fail"  # any use case that finds it cannot go on
    CANCEL = "cancel"  # DELETE .../tasks/{id}, a tenant's erasure
    EXPIRE = "expire"  # the sweeper: a task that stopped moving while a worker should have moved it
    TEACH = "teach"  # options.teach taught first: its teaching phase moves on (tasks/teaching.py)


_S = TaskStatus
# Every status a task can end from (not terminal): the waiting ones (quoted, paused) included.
_RUNNING = (_S.ACCEPTED, _S.QUEUED, _S.PROCESSING, _S.QUOTED, _S.PAUSED)

# (move, status it is made from) → the status it leaves the task in. A pair that is not here is
# refused: the repository's write fails its condition and changes nothing.
TRANSITIONS: dict[tuple[Move, TaskStatus], TaskStatus] = {
    # accepted → queued; a split that died part-way claims the same file again and keeps its status
    (Move.CLAIM_SOURCE, _S.ACCEPTED): _S.QUEUED,
    (Move.CLAIM_SOURCE, _S.QUEUED): _S.QUEUED,
    (Move.CLAIM_SOURCE, _S.PROCESSING): _S.PROCESSING,
    (Move.RECORD_SPLIT, _S.QUEUED): _S.QUEUED,
    (Move.RECORD_SPLIT, _S.PROCESSING): _S.PROCESSING,
    (Move.HAND_ON_SPLIT, _S.QUEUED): _S.QUEUED,
    (Move.HAND_ON_SPLIT, _S.PROCESSING): _S.PROCESSING,
    (Move.HAND_ON_SPLIT, _S.PAUSED): _S.PAUSED,
    (Move.QUOTE, _S.QUEUED): _S.QUOTED,
    (Move.START_QUOTED, _S.QUOTED): _S.QUEUED,
    (Move.PAUSE, _S.QUEUED): _S.PAUSED,
    (Move.PAUSE, _S.PROCESSING): _S.PAUSED,
    (Move.RAISE_BUDGET, _S.PAUSED): _S.PAUSED,
    (Move.RESUME, _S.PAUSED): _S.PROCESSING,
    (Move.COUNT_CHUNK, _S.QUEUED): _S.PROCESSING,
    (Move.COUNT_CHUNK, _S.PROCESSING): _S.PROCESSING,
    (Move.COUNT_CHUNK, _S.PAUSED): _S.PAUSED,
    (Move.CHOOSE_BATCH_MODE, _S.QUEUED): _S.QUEUED,
    (Move.CHOOSE_BATCH_MODE, _S.PROCESSING): _S.PROCESSING,
    (Move.RECORD_LLM_BATCH, _S.QUEUED): _S.QUEUED,
    (Move.RECORD_LLM_BATCH, _S.PROCESSING): _S.PROCESSING,
    (Move.FINISH, _S.QUEUED): _S.READY,
    (Move.FINISH, _S.PROCESSING): _S.READY,
    (Move.TEACH, _S.QUEUED): _S.QUEUED,
    (Move.TEACH, _S.PROCESSING): _S.PROCESSING,
    (Move.TEACH, _S.PAUSED): _S.PAUSED,
    **{(Move.FAIL, status): _S.ERROR for status in _RUNNING},
    **{(Move.CANCEL, status): _S.CANCELLED for status in _RUNNING},
    # Only the statuses a worker should move on (the sweeper's `active` index holds no other)
    **{(Move.EXPIRE, status): _S.ERROR for status in (_S.ACCEPTED, _S.QUEUED, _S.PROCESSING)},
}


def transition(move: Move, status: TaskStatus) -> TaskStatus | None:
    """The status `move` leaves a task in that is now `status`; None if the move is refused."""
    return TRANSITIONS.get((move, status))


def sources(move: Move, *, to: TaskStatus | None = None) -> tuple[TaskStatus, ...]:
    """The statuses `move` can be made from (only those that lead `to` a given status, if named),
    in the enum's order."""
    return tuple(
        status for status in TaskStatus if (move, status) in TRANSITIONS and to in (None, TRANSITIONS[move, status])
    )


def target(move: Move) -> TaskStatus:
    """The one status `move` leaves a task in, whichever status it is made from (a move that can
    keep a status, such as CLAIM_SOURCE, has no one target: ask `transition`)."""
    (status,) = {TRANSITIONS[move, source] for source in sources(move)}
    return status


def is_watched(status: TaskStatus) -> bool:
    """Whether a task in `status` waits on a worker, and so sits in the sweeper's `active` index:
    not an ended one, and not one waiting for its owner (quoted) or a budget (paused)."""
    return status in (_S.ACCEPTED, _S.QUEUED, _S.PROCESSING)


# Task.teach_phase, in the order a task taught first goes through them (tasks/teaching.py).
TEACH_SAMPLE, TEACH_TRAINING, TEACH_REST = "sample", "training", "rest"


class TaskError(BaseModel):
    code: str
    detail: str


# How the quote's teaching figures are worked out (options.teach), stated with them.
TEACH_QUOTE_HOW = (
    "sample_cost_usd: the sample's LLM requests estimated as the run's are (included in estimated_cost_usd). "
    "later_llm_items_without_model: the items a later auto batch of this size would send to the LLM without a "
    "model (the lexicon's unsure share of this file outside the sample). later_saving_usd_at_most: those items at "
    "this file's LLM cost per item, an upper bound: a taught model still sends the items it is unsure of"
)


class TeachQuote(BaseModel):
    """options.teach in a quote: what teaching costs, and at most what it saves on later batches."""

    sample_items: int
    sample_cost_usd: float
    later_llm_items_without_model: int | None = None  # auto only
    later_saving_usd_at_most: float | None = None  # auto only
    how: str


class Quote(BaseModel):
    """What a run will cost, estimated before it starts (analysis/llm/estimate.py says how)."""

    items: int  # rows of the file, errors included
    llm_items: int  # of which the engine expects to send to the LLM (auto: its unsure share)
    requests: int
    input_tokens: int
    output_tokens: int
    estimated_cost_usd: float
    teach: TeachQuote | None = None  # options.teach


class Progress(BaseModel):
    # `total` is unknown (None) until a batch file has been split.
    total: int | None = None
    processed: int = 0  # items with a sentiment result
    failed: int = 0  # items with a per-row error


class ProviderBatchCounts(BaseModel):
    total: int = 0
    completed: int = 0
    failed: int = 0


class ProviderBatchView(BaseModel):
    """One provider batch of the task: round 0 carries a chunk's requests, later rounds only
    what an earlier round left unanswered (failed, expired or cancelled requests)."""

    id: str
    chunk: int
    round: int
    status: (
        str  # the provider's: validating, in_progress, finalizing, completed, failed, expired, cancelling, cancelled
    )
    request_counts: ProviderBatchCounts = Field(default_factory=ProviderBatchCounts)


class LlmBatchState(BaseModel):
    """Batch API mode: where the task's provider batches stand, as the collector last saw them."""

    chunks_waiting: int = 0  # chunks whose answers are not all in yet
    chunks_counted: int = 0
    batches: list[ProviderBatchView] = Field(default_factory=list)


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
    source_encoding: str | None = None  # what the file was read in (UTF-8, Windows-1252, …), once split
    source_delimiter: str | None = None  # CSV: the delimiter it was read with, once split
    chunk_count: int | None = None
    source_etag: str | None = None  # the version of the input that was split; finalize reads the same
    # A split handed on before its function's timeout (usecases/split_handoff.py): chunks below
    # this index are queued, and the split goes on from it. None until the first hand-on.
    split_next_chunk: int | None = None
    # Chunk index → the attempt whose results part was counted. Written in the same conditional
    # update that adds the chunk's counts, so exactly one attempt per chunk counts.
    parts: dict[str, str] = Field(default_factory=dict)
    progress: Progress = Field(default_factory=Progress)
    options: AnalysisOptions = Field(default_factory=AnalysisOptions)
    # What the LLM spent on it, added up chunk by chunk with the counts.
    usage: Usage = Field(default_factory=Usage)
    # Items answered by each engine (lexicon, llm, lexicon-fallback), added up with the counts.
    answered_by: dict[str, int] = Field(default_factory=dict)
    # What the client should know about how its task was run (e.g. auto without an LLM).
    notes: list[str] = Field(default_factory=list)
    quote: Quote | None = None
    # Dollars the LLM was paid for this task (settled from reported usage), in millionths, and
    # what is reserved on top for requests in flight. Written by tenants.budgets.
    spend_settled_micros: int = 0
    spend_committed_micros: int = 0
    paused_reason: str | None = None
    paused_needs_micros: int = 0  # the LLM request a budget refused: the room a resume waits for
    llm_batch: LlmBatchState | None = None  # Batch API mode only
    summary: Summary | None = None
    report: Report | None = None
    error: TaskError | None = None
    warnings: list[TaskWarning] = Field(default_factory=list)
    headline: Headline | None = None  # a ready task: which engine gave its labels, how well it is known to do
    # options.teach on auto, taught first (tasks/teaching.py): where the teaching stands. "sample":
    # only the sample's chunks (0..teach_sample_chunks-1) are queued; "training": its model is
    # being taught; "rest": the other rows are queued, after the sample's chunks, read through the
    # model (options.model_id) or, if it could not be taught, as before (teach_failure says why).
    teach_phase: str | None = None
    teach_sample_chunks: int | None = None
    teach_failure: str | None = None
    results_key: str | None = None
    results_csv_key: str | None = None
    expires_at: int | None = None
    # Counts the item's writes: stored as 1, and every update adds one (tasks.repository). Tasks
    # stored before it existed read as 0 until their next update.
    version: int = 0

    @classmethod
    def new(
        cls,
        tenant: str,
        type: TaskType,
        status: TaskStatus,
        *,
        ttl_days: int,
        task_id: str | None = None,
        **fields: Any,
    ) -> Task:
        """A task as it is first stored: created and updated now, expiring `ttl_days` later, with a
        fresh id unless the caller derives one (drops do, from their S3 event)."""
        created_at = now()
        return cls(
            tenant=tenant,
            task_id=task_id or new_task_id(),
            type=type,
            status=status,
            created_at=created_at,
            updated_at=created_at,
            expires_at=ttl_epoch(created_at, ttl_days),
            **fields,
        )

    @property
    def reading_notes(self) -> list[str]:
        """What a client should know about how its file was read: an encoding other than UTF-8."""
        if self.source_encoding in (None, "UTF-8", "UTF-8 with BOM", "UTF-16"):
            return []
        return [
            f"the file is not UTF-8: it was read as {self.source_encoding}, detected from its first 8 KiB; "
            'if its texts look wrong, save it as UTF-8 (in Excel: Save As, "CSV UTF-8 (Comma delimited)")'
        ]

    def file_spec(self, max_text_chars: int) -> FileSpec:
        """How this batch's file is read: the same way by the splitter, the finalizer (the input's
        own columns beside the results) and the model trainer (the label column)."""
        return FileSpec(
            format=FileFormat(self.format),
            text_field=self.text_field,
            id_field=self.id_field,
            max_text_chars=max_text_chars,
            delimiter=self.options.delimiter,
            sheet=self.options.sheet,
        )

    def after(self, move: Move) -> TaskStatus | None:
        """The status `move` would leave this task in; None if its status refuses the move."""
        return transition(move, self.status)

    @property
    def is_complete(self) -> bool:
        """Every item has been counted, as a result or as an error."""
        total = self.progress.total
        return total is not None and self.progress.processed + self.progress.failed == total

    @property
    def needs_finalizing(self) -> bool:
        return self.is_complete and not self.status.is_terminal

    @property
    def teaches_first(self) -> bool:
        """options.teach answered first: the rest of the batch waits for the taught model."""
        return self.teach_phase is not None

    @property
    def needs_teaching(self) -> bool:
        """Every item of the teaching sample is counted and its model is not asked for yet."""
        total, teach = self.progress.total, self.options.teach
        if self.teach_phase != TEACH_SAMPLE or total is None or teach is None or self.status.is_terminal:
            return False
        return self.progress.processed + self.progress.failed >= min(teach.sample, total)


def new_task_id() -> str:
    """28 hex characters: 12 of milliseconds (so ids sort by creation) and 16 random."""
    return f"{int(time.time() * 1000):012x}{secrets.token_hex(8)}"


def drop_task_id(bucket: str, key: str, version: str) -> str:
    """The id of a task created by a file drop: the same `version` (what identifies one write of
    the object, see usecases.split) always maps to the same id, so a duplicated S3 event cannot
    create a second task."""
    return hashlib.sha256(f"{bucket}\n{key}\n{version}".encode()).hexdigest()[:28]


def is_valid_task_id(value: str) -> bool:
    return bool(TASK_ID_PATTERN.match(value))


def created_key(task: Task) -> str:
    """Sort key of the listing indexes: creation time first, the id breaks ties."""
    return f"{task.created_at.isoformat()}#{task.task_id}"
