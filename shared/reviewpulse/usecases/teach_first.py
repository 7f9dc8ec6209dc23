"""options.teach on auto, taught first: the sample is answered by the LLM, a model is taught from it,
and the rest of the same batch is then answered by auto through that model (issue 20 §3).

    split (sample)   the splitter queues only the sample's chunks, 0..k-1 (tasks.teaching: "sample")
    finalizer        the sample counted, it records the model and queues its training, once
                     ("training"; usecases.models.prepare_teaching / queue_teaching)
    trainer/sweeper  the model ended (ready, failed, or swept as stalled): asks for the rest
    split (rest)     the rest's chunks, k.., on auto with the model, or without one if it could not
                     be taught ("rest"; the task's `teach-failed` warning says why)
    finalizer        the whole task, both sets of chunks merged in row order

Every step is one conditional write, redone as a whole on redelivery: the chunks of both sets
have disjoint indexes and are counted once per index, so every row is counted exactly once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from reviewpulse.analysis.engines.base import EngineParts
from reviewpulse.errors import UnusableFile
from reviewpulse.observability import logger
from reviewpulse.queues import FinalizeQueue, IngestQueue, WorkItem, WorkMessage, WorkQueue
from reviewpulse.settings import Settings
from reviewpulse.storage.inputs import InputFiles, SourceChanged
from reviewpulse.tasks.model import TEACH_REST, TEACH_TRAINING, Task, TaskError
from reviewpulse.tasks.repository import TaskRepository
from reviewpulse.tenant_models.model import ModelStatus, TenantModel
from reviewpulse.tenant_models.queue import TrainingQueue
from reviewpulse.tenant_models.repository import ModelRepository
from reviewpulse.usecases.models import prepare_teaching, queue_teaching, taught_model_id

if TYPE_CHECKING:
    from reviewpulse.ingest.chunking import Chunk
    from reviewpulse.ingest.readers import Row


class Splitter(Protocol):
    """What the rest's split needs of the splitter's collaborators (usecases/split.py's Splitter,
    which imports this module for the first phase)."""

    tasks: TaskRepository
    input_files: InputFiles
    queue: WorkQueue
    finalizer: FinalizeQueue
    settings: Settings
    drops: Any  # its models: split.DropChecks.models


def teaches_first(task: Task, total: int) -> bool:
    """Whether the task's rest waits for its taught model: options.teach on an engine that sends
    only what it is unsure of (auto), with rows left outside the sample. (On llm every item is
    answered by the LLM anyway: its model is taught once the task is ready.)"""
    # The engines are imported where a task asks to be taught: the finalizer and the sweeper hold
    # this module for their own steps, and a cold start of theirs loads no engine for it.
    from reviewpulse.analysis.engines.registry import sends_only_unsure

    teach = task.options.teach
    return teach is not None and sends_only_unsure(task.options) and teach.sample < total


def sample_only(rows: Iterable[Row], sample: frozenset[int]) -> Iterator[Row]:
    return (row for row in rows if row.number in sample)


# -- the finalizer: the sample is counted ------------------------------------------------------


@dataclass(frozen=True)
class Teaching:
    """What the finalizer needs to ask for a teaching task's model (options.teach)."""

    models: ModelRepository
    queue: TrainingQueue
    # Where a taught-first task's rest is asked for when its model cannot be taught.
    rest: IngestQueue | None = None


def start_teaching(task: Task, teaching: Teaching, *, tasks: TaskRepository) -> None:
    """The sample of `task` is counted: its model recorded and queued for training, by the one
    caller whose write moves the task to `training`. A model that cannot be taught (too many
    models, a queue that refuses it) is not waited for: the rest is asked for at once."""
    models, queue, rest = teaching.models, teaching.queue, teaching.rest
    _, failure = prepare_teaching(task, models=models, correlation_id=task.correlation_id)
    if tasks.teaching.start_training(task.tenant, task.task_id) is None:
        return  # another finalizer moved it on
    if failure is None:
        queue_teaching(task, models=models, queue=queue, correlation_id=task.correlation_id)
    model = models.get(task.tenant, taught_model_id(task.task_id))
    if model is None or model.status is not ModelStatus.TRAINING:
        logger.warning("teaching not started; the rest is read without a model", extra={"task_id": task.task_id})
        if rest is not None:
            rest.request_split(task.tenant, task.task_id, task.correlation_id, rest=True)


# -- the trainer and the model sweeper: the model ended ----------------------------------------


def model_ended(model: TenantModel, rest: IngestQueue | None) -> None:
    """A taught model is no longer training: its task's rest may go on (the splitter checks that
    the task waits for it; a model taught once its task was ready asks for nothing there)."""
    if model.source.teach_sample is None or rest is None:
        return
    rest.request_split(model.tenant, model.source.task_id, model.correlation_id, rest=True)


# -- the splitter: the rest ------------------------------------------------------------------


@dataclass(frozen=True)
class RestOutcome:
    outcome: str  # "split", "skipped" or "error"
    chunks: int = 0
    reason: str = ""


@dataclass(frozen=True)
class SplitRest:
    """Command: queue the rest of taught-first task `task_id` (an ingest message's `rest`);
    `final` is the message's last delivery."""

    tenant: str
    task_id: str
    correlation_id: str | None = None
    final: bool = False


def split_rest(command: SplitRest, splitter: Splitter) -> RestOutcome:
    """Queue the rest of a taught-first task (the rows outside its sample) once its model has
    ended: through the model if it is ready, else as auto reads without one."""
    tenant, task_id, correlation_id, final = command.tenant, command.task_id, command.correlation_id, command.final
    tasks, settings = splitter.tasks, splitter.settings
    task = tasks.get(tenant, task_id)
    if task is None or task.status.is_terminal or task.teach_phase not in (TEACH_TRAINING, TEACH_REST):
        return RestOutcome("skipped", reason="no task waits for its rest")
    try:
        if task.teach_phase == TEACH_TRAINING:
            models = splitter.drops.models
            model = models.get(tenant, taught_model_id(task_id)) if models is not None else None
            if model is not None and model.status is ModelStatus.TRAINING:
                return RestOutcome("skipped", reason="its model is still training")
            model_id, failure = _reader(model)
            named = task.options.min_confidence
            threshold = None if model_id else (named if named is not None else settings.auto_min_confidence)
            counted = sum(1 for _ in _rest_chunks(task, splitter))
            recorded = tasks.teaching.record_rest(
                tenant,
                task_id,
                chunk_count=(task.teach_sample_chunks or 0) + counted,
                model_id=model_id,
                min_confidence=threshold,
                failure=failure,
            )
            task = recorded or tasks.get(tenant, task_id)
            if task is None or task.status.is_terminal or task.teach_phase != TEACH_REST:
                return RestOutcome("skipped", reason="the task moved on")
        # The rest's chunks, all again on a redelivery: each index is counted once.
        from reviewpulse.analysis.engines.registry import engine_for  # as in teaches_first

        engine = engine_for(task.options, EngineParts(settings))
        sent = splitter.queue.send(_messages(task, splitter), correlation_id, llm_queue=engine.uses_llm_queue)
    except (SourceChanged, UnusableFile) as exc:
        detail = str(exc) if isinstance(exc, SourceChanged) else exc.detail
        tasks.mark_error(tenant, task_id, TaskError(code="source-changed", detail=detail))
        return RestOutcome("error", reason="source-changed")
    except Exception as exc:
        if not final:
            raise
        logger.error("the rest's split failed on its final delivery", extra={"error_type": type(exc).__name__})
        detail = f"the rest of the batch could not be split on any delivery ({type(exc).__name__})"
        tasks.mark_error(tenant, task_id, TaskError(code="split-failed", detail=detail))
        return RestOutcome("error", reason="split-failed")
    latest = tasks.get(tenant, task_id)
    if latest is not None and latest.needs_finalizing:  # every chunk counted before this came back
        splitter.finalizer.request(tenant, task_id, correlation_id)
    logger.info("rest of a taught task split", extra={"task_id": task_id, "chunks": sent})
    return RestOutcome("split", chunks=sent)


def _reader(model: TenantModel | None) -> tuple[str | None, str | None]:
    """The model that reads the rest, or why none does (the task's teach-failed warning)."""
    if model is None:
        return None, "no model could be recorded for it (a tenant may have a limited number of models)"
    if model.status is ModelStatus.READY:
        return model.model_id, None
    error = model.error
    reason = f"{error.code}: {error.detail}" if error else "it failed"
    return None, f"the model {model.model_id} could not be taught ({reason}); the rest was read without it"


def _rest_chunks(task: Task, splitter: Splitter) -> Iterator[Chunk]:
    # The readers and engines, for a rest being read (as in teaches_first).
    from reviewpulse.analysis.engines.registry import engine_for
    from reviewpulse.analysis.teach import sample_rows
    from reviewpulse.ingest.chunking import chunk_rows
    from reviewpulse.ingest.readers import open_rows

    spec = task.file_spec(splitter.settings.max_text_chars)
    total = task.progress.total or 0
    sample = sample_rows(task.task_id, total, task.options.teach.sample if task.options.teach else 0)
    rows = open_rows(splitter.input_files.open_source(task.source_key, etag=task.source_etag), spec)
    engine = engine_for(task.options, EngineParts(splitter.settings))
    rest = (row for row in rows if row.number not in sample)
    return chunk_rows(rest, engine.chunk_max_items, splitter.settings.chunk_max_bytes)


def _messages(task: Task, splitter: Splitter) -> Iterator[WorkMessage]:
    offset = task.teach_sample_chunks or 0
    for chunk in _rest_chunks(task, splitter):
        items = [WorkItem.model_validate(item) for item in chunk.items]
        yield WorkMessage(tenant=task.tenant, task_id=task.task_id, chunk=offset + chunk.index, items=items)
