from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request

from reviewpulse import wiring
from reviewpulse.api import dependencies as deps
from reviewpulse.api.auth import request_id, scoped
from reviewpulse.api.idempotency_header import IdempotencyKeyHeader, answer_once
from reviewpulse.api.problems import problem_responses
from reviewpulse.api.schemas import CreateTaskRequest, TaskView
from reviewpulse.errors import ValidationFailed
from reviewpulse.tenant_models.repository import ModelRepository
from reviewpulse.tenants.scopes import Scope
from reviewpulse.usecases.create_task import NewText, TaskQueueing, create_text_task
from reviewpulse.usecases.models import check_task_model, with_default_model
from reviewpulse.usecases.resolve_options import check_baseline, check_teach, resolve_options

router = APIRouter()


@router.post(
    "/v1/tasks",
    operation_id="createTask",
    tags=["tasks"],
    status_code=202,
    response_model=TaskView,
    summary="Analyse one text",
    responses=problem_responses(400, 404, 409, 413),
)
def create_task(
    body: CreateTaskRequest,
    request: Request,
    idempotency_key: str | None = IdempotencyKeyHeader,
    tenant: str = scoped(Scope.ANALYZE),
    queueing: TaskQueueing = Depends(wiring.task_queueing),
    idempotency_store: Callable[[], Any] = Depends(deps.idempotency_store),
    models: ModelRepository = Depends(wiring.model_repository),
) -> TaskView:
    tasks, settings = queueing.tasks, queueing.settings

    def create() -> TaskView:
        check_baseline(tenant, body.options, tasks)
        if body.options.quote_only:
            raise ValidationFailed("options.quote_only applies to batches: one text is analysed at once")
        options = resolve_options(
            # The request's options, with the tenant's default model where they name none.
            with_default_model(tenant, body.options, settings.default_engine, models=models),
            settings,
            columns=[],  # a single text has no columns to cut by
        )
        check_teach(options, settings, batch=False)
        check_task_model(tenant, body.options.model_id, models=models)
        command = NewText(tenant, body.text, body.id, options, correlation_id=request_id(request))
        task = create_text_task(command, queueing)
        return TaskView.of(task, settings)

    return answer_once(
        request,
        tenant=tenant,
        key=idempotency_key,
        operation="create_task",
        body=body,
        output_model=TaskView,
        produce=create,
        store=idempotency_store,
    )
