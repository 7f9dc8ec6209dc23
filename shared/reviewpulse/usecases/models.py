"""A tenant's models through the API: ask for one to be trained from a ready task's labelled
file, list them, read one, delete one, and set the tenant's default (POST, GET, DELETE
/v1/models, PUT /v1/models/default)."""

from __future__ import annotations

from collections.abc import Callable

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
from reviewpulse.tasks.model import TaskStatus, TaskType, is_valid_task_id
from reviewpulse.tasks.repository import TaskRepository
from reviewpulse.tenant_models.model import (
    MAX_MODELS_PER_TENANT,
    ModelSource,
    ModelStatus,
    TenantModel,
    is_valid_model_id,
)
from reviewpulse.tenant_models.queue import TrainingQueue, TrainingRequest
from reviewpulse.tenant_models.repository import ModelRepository


def request_training(
    tenant: str,
    task_id: str,
    label_field: str,
    *,
    name: str | None,
    correlation_id: str | None,
    tasks: TaskRepository,
    models: ModelRepository,
    queue: TrainingQueue,
) -> TenantModel:
    """A new model in `training`, queued for the training function. What can be told without
    reading the file is checked here; its labels are checked by the training function before any
    fitting (the model then fails with a code)."""
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
