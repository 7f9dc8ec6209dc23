"""The training function's work: read a ready task's labelled file, check its labels, fit a model
with the learning library, write its artifact, and only then mark the model ready.

Everything a customer can get wrong is checked before any fitting starts, and ends the model in
`failed` with a stable code (reviewpulse.errors.MODEL_ERROR_CODES). A redelivered message for a
model that already finished does nothing; a model deleted while it trained leaves no artifact.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from reviewpulse.analysis.labels import LabelScheme, describe_values
from reviewpulse.analysis.models.artifact import ModelArtifact
from reviewpulse.analysis.models.training import check_rows
from reviewpulse.analysis.teach import sample_rows, teaching_labels
from reviewpulse.errors import TrainingDataRejected, UnusableFile
from reviewpulse.ingest.readers import Row, open_rows
from reviewpulse.observability import logger
from reviewpulse.queues import IngestQueue
from reviewpulse.settings import Settings
from reviewpulse.storage.inputs import InputFiles, SourceChanged
from reviewpulse.storage.result_files import ResultFiles
from reviewpulse.tasks.model import TEACH_TRAINING, Task, TaskStatus
from reviewpulse.tasks.repository import TaskRepository
from reviewpulse.tenant_models.model import ModelError, ModelStatus, TenantModel
from reviewpulse.tenant_models.queue import TrainingRequest
from reviewpulse.tenant_models.repository import ModelRepository
from reviewpulse.usecases.teach_first import model_ended

# Labels the mapping cannot read are left out (and named) up to this share of the labelled rows;
# past it the column is taken for one the mapping does not read, and the model is refused.
MAX_UNREADABLE_SHARE = 0.05


# texts, their labels (Label values) → a fitted model (the learning library's train).
Fit = Callable[[Sequence[str], Sequence[str]], ModelArtifact]


class Artifacts(Protocol):
    """Where fitted models are kept (storage.model_files on the data bucket)."""

    def put(self, tenant: str, artifact: ModelArtifact) -> str: ...

    def delete(self, tenant: str, model_id: str) -> int: ...


class TaskResults(Protocol):
    """A ready task's counted results as (row, engine, label), in any order (the task's result
    parts on the data bucket): where a model taught from the LLM reads its labels."""

    def __call__(self, task: Task) -> Iterable[tuple[int, str | None, str | None]]: ...


def results_from_parts(result_files: ResultFiles) -> TaskResults:
    """A ready task's counted results read from its parts (the attempt of each chunk that counted)."""

    def read(task: Task) -> Iterable[tuple[int, str | None, str | None]]:
        for chunk, attempt in task.parts.items():
            for result in result_files.read_part(task.tenant, task.task_id, int(chunk), attempt):
                yield result.row, result.engine, result.label

    return read


class ModelRefused(Exception):
    """The labels cannot make a model: the model fails with this code."""

    def __init__(self, code: str, detail: str, counts: dict[str, int] | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.counts = counts or {}


@dataclass
class LabelledRows:
    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    def counts_dict(self) -> dict[str, int]:
        return dict(sorted(self.counts.items()))


def collect_labelled_rows(rows: Iterable[Row], label_field: str) -> LabelledRows:
    """Every row, counted by what became of it (`rows`, `row_errors`, `unlabelled`,
    `unreadable_labels`, and `label_<class>` for each labelled one). Rows whose label the mapping
    cannot read are skipped and named in `notes` when they are few (MAX_UNREADABLE_SHARE of the
    labelled rows, e.g. a stray `not_relevant`); more than that, and the column is not one the
    mapping reads: ModelRefused."""
    collected = LabelledRows()
    texts: list[str] = []
    raw: list[str] = []
    for row in rows:
        collected.counts["rows"] += 1
        if row.error is not None or row.text is None:
            collected.counts["row_errors"] += 1
            continue
        value = (row.columns.get(label_field) or "").strip()
        if not value:
            collected.counts["unlabelled"] += 1
            continue
        texts.append(row.text)
        raw.append(value)
    scheme = LabelScheme.for_values(raw)
    unreadable: list[str] = []
    for text, value in zip(texts, raw, strict=True):
        label = scheme.read(value)
        if label is None:
            unreadable.append(value)
            continue
        collected.texts.append(text)
        collected.labels.append(label.value)
        collected.counts[f"label_{label.value}"] += 1
    if unreadable:
        collected.counts["unreadable_labels"] = len(unreadable)
        named = f"{len(unreadable)} label values the mapping cannot read (read as {scheme.name}): {describe_values(unreadable)}"
        if len(unreadable) > MAX_UNREADABLE_SHARE * len(raw):
            raise ModelRefused(
                "unreadable-labels",
                f"{named}; see README, Tenant models, for the shapes it reads",
                collected.counts_dict(),
            )
        collected.notes.append(f"{named}: those rows were left out")
    return collected


@dataclass(frozen=True)
class TrainModel:
    """Command: train the model `request` names; `last_attempt` is its message's last delivery
    (a model that keeps failing then ends `failed`, never stuck training)."""

    request: TrainingRequest
    last_attempt: bool


@dataclass(frozen=True)
class Training:
    """The training function's collaborators (built by its handler from wiring's factories).
    `task_results` reads a ready task's answers (a model taught from the LLM); `rest` is where a
    model taught first asks for the rest of its task (usecases/teach_first.py)."""

    models: ModelRepository
    tasks: TaskRepository
    input_files: InputFiles
    artifacts: Callable[[], Artifacts]
    fit: Fit
    settings: Settings
    task_results: TaskResults | None = None
    rest: IngestQueue | None = None


def train_model(command: TrainModel, deps: Training) -> ModelStatus | None:
    """Train one model; its status once done (None if it was not training: nothing to do). A
    model taught from the LLM (source.teach_sample) reads its labels from `task_results`, and once
    it has ended asks for the rest of its task (`rest`, usecases/teach_first.py): on every
    delivery, as the message may be redelivered after the model ended and before the request."""
    request = command.request
    model = deps.models.get(request.tenant, request.model_id)
    if model is None or model.status is not ModelStatus.TRAINING:
        logger.info("model not training; nothing to do", extra={"model_id": request.model_id})
        if model is not None:
            model_ended(model, deps.rest)
        return None
    status = _train(
        model,
        deps.models,
        deps.tasks,
        deps.input_files,
        deps.artifacts,
        deps.fit,
        deps.settings,
        command.last_attempt,
        deps.task_results,
    )
    model_ended(model, deps.rest)
    return status


def _train(
    model: TenantModel,
    models: ModelRepository,
    tasks: TaskRepository,
    input_files: InputFiles,
    artifacts: Callable[[], Artifacts],
    fit: Fit,
    settings: Settings,
    last_attempt: bool,
    task_results: TaskResults | None,
) -> ModelStatus | None:
    counts: dict[str, int] = {}
    try:
        collected = _read_labels(model, tasks, input_files, settings, task_results)
        counts = collected.counts_dict()
        # The learning library's own checks (no rows, one class, too few per class), before fitting.
        check_rows(collected.texts, collected.labels)
        artifact = fit(collected.texts, collected.labels)
        if model.source.teach_sample is not None:
            # The card says what taught it (counts only: no customer text).
            card = {**artifact.card, "source": "llm-labels", "taught_from_llm_labels": len(collected.labels)}
            artifact = replace(artifact, card=card)
        status = _store_and_mark_ready(models, model, artifact, artifacts(), counts, collected.notes)
        if status is ModelStatus.READY and model.source.teach_set_default:
            models.set_default(model.tenant, model.model_id)  # options.teach.set_default
        return status
    except ModelRefused as refused:
        return _fail(models, model, refused.code, refused.detail, refused.counts or counts)
    except TrainingDataRejected as rejected:
        return _fail(models, model, rejected.code, rejected.detail, counts)
    except Exception as exc:
        if not last_attempt:
            raise  # redelivered by SQS
        # Never left training: the model fails on its message's last delivery, whatever went wrong.
        logger.exception("model training failed on its last delivery", extra={"model_id": model.model_id})
        return _fail(models, model, "training-failed", f"training failed ({type(exc).__name__})", counts)


def _store_and_mark_ready(
    models: ModelRepository,
    model: TenantModel,
    trained: ModelArtifact,
    store: Artifacts,
    counts: dict[str, int],
    notes: list[str],
) -> ModelStatus | None:
    # The artifact first: a model is ready only once what serves it is written.
    artifact = trained.with_identity(model.model_id, trained.version)
    store.put(model.tenant, artifact)
    if not models.mark_ready(
        model.tenant, model.model_id, version=artifact.version, card=artifact.card, counts=counts, notes=notes
    ):
        # Deleted (or finished by another delivery) meanwhile: leave nothing of it behind.
        current = models.get(model.tenant, model.model_id)
        if current is None:
            store.delete(model.tenant, model.model_id)
        return current.status if current else None
    logger.info("model ready", extra={"model_id": model.model_id, "version": artifact.version})
    return ModelStatus.READY


def collect_taught_rows(rows: Iterable[Row], labels: dict[int, str]) -> LabelledRows:
    """The rows the LLM labelled for teaching (`labels` by row number: analysis/teach.py), their
    texts read again from the task's file; counted as collect_labelled_rows counts."""
    collected = LabelledRows()
    for row in rows:
        label = labels.get(row.number)
        if label is None:
            continue
        collected.counts["rows"] += 1
        if row.error is not None or row.text is None:
            collected.counts["row_errors"] += 1
            continue
        collected.texts.append(row.text)
        collected.labels.append(label)
        collected.counts[f"label_{label}"] += 1
    return collected


def _read_labels(
    model: TenantModel,
    tasks: TaskRepository,
    input_files: InputFiles,
    settings: Settings,
    task_results: TaskResults | None = None,
) -> LabelledRows:
    task = tasks.get(model.tenant, model.source.task_id)
    # A taught-first task (usecases/teach_first.py) is still running: its sample is counted.
    waiting = task is not None and task.teach_phase == TEACH_TRAINING and not task.status.is_terminal
    if task is None or not (task.status is TaskStatus.READY or waiting) or not task.source_key or not task.format:
        raise ModelRefused("source-unavailable", "the task or its file is gone (deleted, purged or expired)")
    try:
        if model.source.teach_sample is not None:
            if task_results is None:
                raise ModelRefused("source-unavailable", "this deployment cannot read a task's results for teaching")
            sample = sample_rows(task.task_id, task.progress.total, model.source.teach_sample)
            taught = {t.row: t.label for t in teaching_labels(task_results(task), sample)}
            return collect_taught_rows(_rows(task, input_files, settings), taught)
        if not model.source.label_field:
            raise ModelRefused("source-unavailable", "the model names no label column and no teaching sample")
        return collect_labelled_rows(_rows(task, input_files, settings), model.source.label_field)
    except SourceChanged:
        raise ModelRefused("source-unavailable", "the task's file was replaced after it was analysed") from None
    except UnusableFile as exc:
        raise ModelRefused("source-unavailable", f"the task's file cannot be read again ({exc.code})") from None
    except Exception as exc:
        if _missing_object(exc):
            raise ModelRefused("source-unavailable", "the task's file is gone (purged or expired)") from None
        raise


def _missing_object(exc: Exception) -> bool:
    response = getattr(exc, "response", None)
    return isinstance(response, dict) and response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound")


def _rows(task: Task, input_files: InputFiles, settings: Settings) -> Iterable[Row]:
    spec = task.file_spec(settings.max_text_chars)
    return open_rows(input_files.open_source(task.source_key, etag=task.source_etag), spec)


def _fail(models: ModelRepository, model: TenantModel, code: str, detail: str, counts: dict[str, int]) -> ModelStatus:
    models.mark_failed(model.tenant, model.model_id, ModelError(code=code, detail=detail), counts)
    logger.info("model failed", extra={"model_id": model.model_id, "code": code})
    return ModelStatus.FAILED
