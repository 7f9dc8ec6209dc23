"""A tenant's models through the API: ask for one to be trained from a ready task's labelled
file, list them, read one, delete one, and set the tenant's default (POST, GET, DELETE
/v1/models, PUT /v1/models/default)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from reviewpulse.analysis.options import OptionsRequest
from reviewpulse.errors import (
    LabelColumnNotFound,
    ModelNotFound,
    ModelNotReady,
    NotFound,
    TaskNotReady,
    TooManyModels,
)
from reviewpulse.observability import logger
from reviewpulse.tasks.model import Task, TaskStatus, TaskType, is_valid_task_id
from reviewpulse.tasks.repository import TaskRepository
from reviewpulse.tenant_models.model import (
    MAX_MODELS_PER_TENANT,
    MODEL_ID_PREFIX,
    ModelError,
    ModelSource,
    ModelStatus,
    TenantModel,
    is_valid_model_id,
)
from reviewpulse.tenant_models.queue import TrainingQueue, TrainingRequest
from reviewpulse.tenant_models.repository import ModelRepository


@dataclass(frozen=True)
class RequestTraining:
    """Command: train a model for `tenant` from ready task `task_id`'s column `label_field`."""

    tenant: str
    task_id: str
    label_field: str
    name: str | None
    correlation_id: str | None


@dataclass(frozen=True)
class TrainingRequests:
    """POST /v1/models' collaborators (wiring.training_requests builds them)."""

    tasks: TaskRepository
    models: ModelRepository
    queue: TrainingQueue


def request_training(command: RequestTraining, deps: TrainingRequests) -> TenantModel:
    """A new model in `training`, queued for the training function. What can be told without
    reading the file is checked here; its labels are checked by the training function before any
    fitting (the model then fails with a code)."""
    tenant, task_id, label_field = command.tenant, command.task_id, command.label_field
    name, correlation_id = command.name, command.correlation_id
    tasks, models, queue = deps.tasks, deps.models, deps.queue
    task = tasks.get(tenant, task_id) if is_valid_task_id(task_id) else None
    if task is None:
        raise NotFound("no such task")
    if task.type is TaskType.TEXT:
        raise LabelColumnNotFound("a single text has no columns: train from a batch whose file has a label column")
    if task.status is not TaskStatus.READY:
        raise TaskNotReady(f"task is {task.status.value}: a model is trained from a ready task's file")
    if label_field not in (task.columns or []):
        raise LabelColumnNotFound("the task's file has no such column (columns are matched exactly)")
    owned, _ = models.for_tenant(tenant)
    if len(owned) >= MAX_MODELS_PER_TENANT:
        raise TooManyModels(f"a tenant may have {MAX_MODELS_PER_TENANT} models; delete one first")
    model = TenantModel.new(
        tenant, ModelSource(task_id=task_id, label_field=label_field), name=name, correlation_id=correlation_id
    )
    models.add(model)
    try:
        queue.request(TrainingRequest(tenant=tenant, model_id=model.model_id), correlation_id)
    except Exception:
        # Never left training with nothing queued to finish it.
        models.delete(tenant, model.model_id)
        raise
    logger.info("model training requested", extra={"tenant": tenant, "model_id": model.model_id, "task_id": task_id})
    return model


# The model code (MODEL_ERROR_CODES) of a taught model whose training request could not be sent.
NOT_QUEUED = "training-failed"


def taught_model_id(task_id: str) -> str:
    """The id of the model a task teaches (options.teach): derived from the task's id, so a
    redelivered finalization finds the model it already asked for, and the task view can name it."""
    return MODEL_ID_PREFIX + hashlib.sha256(f"teach:{task_id}".encode()).hexdigest()[:16]


def prepare_teaching(task: Task, *, models: ModelRepository, correlation_id: str | None) -> tuple[str, str | None]:
    """Before a teaching task (options.teach) is marked ready: its model's record in `training`
    (labels: the LLM's answers to the task's teaching sample). Returns the model's id and, if it
    cannot be taught, why (the task's `teach-failed` warning); a redelivery finds the same model."""
    model_id = taught_model_id(task.task_id)
    teach = task.options.teach
    if teach is None:
        return model_id, "the task asked for no teaching"
    existing = models.get(task.tenant, model_id)
    if existing is None:
        owned, _ = models.for_tenant(task.tenant)
        if len(owned) >= MAX_MODELS_PER_TENANT:
            return model_id, f"a tenant may have {MAX_MODELS_PER_TENANT} models (too-many-models): none was taught"
        source = ModelSource(task_id=task.task_id, teach_sample=teach.sample, teach_set_default=teach.set_default)
        model = TenantModel.new(task.tenant, source, name="taught from the LLM", correlation_id=correlation_id)
        try:
            models.add(model.model_copy(update={"model_id": model_id}))
        except Exception:
            if models.get(task.tenant, model_id) is None:
                raise
            # A redelivered finalization added it first.
    return model_id, None


def queue_teaching(task: Task, *, models: ModelRepository, queue: TrainingQueue, correlation_id: str | None) -> None:
    """Once the teaching task is ready: its model queued for the training function. A model that
    cannot be queued fails (never left training with nothing to finish it)."""
    model_id = taught_model_id(task.task_id)
    model = models.get(task.tenant, model_id)
    if model is None or model.status is not ModelStatus.TRAINING:
        return
    try:
        queue.request(TrainingRequest(tenant=task.tenant, model_id=model_id), correlation_id)
    except Exception:
        logger.exception("teaching request not queued", extra={"task_id": task.task_id, "model_id": model_id})
        error = ModelError(code=NOT_QUEUED, detail="the training request could not be queued")
        models.mark_failed(task.tenant, model_id, error, {})
        return
    logger.info("teaching requested", extra={"tenant": task.tenant, "model_id": model_id, "task_id": task.task_id})


def get_model(tenant: str, model_id: str, *, models: ModelRepository) -> TenantModel:
    # Another tenant's model is looked up under the caller's tenant: it answers like a missing one.
    model = models.get(tenant, model_id) if is_valid_model_id(model_id) else None
    if model is None:
        raise NotFound("no such model")
    return model


def delete_model(
    tenant: str, model_id: str, *, models: ModelRepository, delete_artifacts: Callable[[str, str], object]
) -> None:
    """Tasks that used it stay readable (their results name the model's version); new tasks that
    name it are refused. It stops being the tenant's default."""
    deleted = models.delete(tenant, model_id) if is_valid_model_id(model_id) else None
    if deleted is None:
        raise NotFound("no such model")
    models.clear_default_if(tenant, model_id)
    delete_artifacts(tenant, model_id)
    logger.info("model deleted", extra={"tenant": tenant, "model_id": model_id})


def set_default_model(tenant: str, model_id: str | None, *, models: ModelRepository) -> str | None:
    """The model new tasks of the tenant use when they name none (None: no default)."""
    if model_id is not None:
        model = get_model(tenant, model_id, models=models)
        if model.status is not ModelStatus.READY:
            raise ModelNotReady(f"model is {model.status.value}: only a ready model can be the default")
    models.set_default(tenant, model_id)
    logger.info("default model set", extra={"tenant": tenant, "model_id": model_id})
    return model_id


# The engines a model reads for (llm takes no model_id).
ENGINES_WITH_MODELS = ("lexicon", "auto")


def with_default_model(
    tenant: str, requested: OptionsRequest, default_engine: str, *, models: ModelRepository
) -> OptionsRequest:
    """A new task's options (as the request names them) with the tenant's default model filled in
    where they name none and their engine reads a model; stored on the task, so a later change of
    the default cannot alter it."""
    if requested.model_id is not None or (requested.engine or default_engine) not in ENGINES_WITH_MODELS:
        return requested
    default = models.default_model_id(tenant)
    return requested.model_copy(update={"model_id": default}) if default else requested


def check_task_model(tenant: str, model_id: str | None, *, models: ModelRepository) -> None:
    """The options.model_id a new task's request names must be a ready model of the tenant,
    checked when the task is created (the tenant's default needs no check: it can only be set to a
    ready model, and deleting the model clears it): 404 `model-not-found` for none (missing, deleted, or
    another tenant's: looked up under the caller's tenant, it answers like a missing one), 409
    `model-not-ready` for one still training or failed. A model deleted after the task was created
    still leaves its items the per-row `model-not-found`."""
    if model_id is None:
        return
    # (Looked up whatever its shape: records are made by the models API, whose ids are mdl_…,
    # and by tools that store a named model the same way.)
    model = models.get(tenant, model_id)
    if model is None:
        raise ModelNotFound("options.model_id names no model of yours")
    if model.status is not ModelStatus.READY:
        raise ModelNotReady(f"options.model_id names a model that is {model.status.value}: name a ready model")
