from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from reviewpulse import wiring
from reviewpulse.api import dependencies as deps
from reviewpulse.api.auth import request_id, scoped
from reviewpulse.api.conditional import PRESIGNED_CACHE
from reviewpulse.api.idempotency_header import IdempotencyKeyHeader, answer_once
from reviewpulse.api.problems import problem_responses
from reviewpulse.api.schemas import BatchCreated, CreateBatchRequest, TaskView, UploadView
from reviewpulse.tenant_models.repository import ModelRepository
from reviewpulse.tenants.scopes import Scope
from reviewpulse.usecases.create_batch import BatchCreation, NewBatch, create_batch_task
from reviewpulse.usecases.models import check_task_model, with_default_model
from reviewpulse.usecases.resolve_options import check_baseline, check_teach, resolve_options

router = APIRouter()


@router.post(
    "/v1/batches",
    operation_id="createBatch",
    tags=["batches"],
    status_code=201,
    response_model=BatchCreated,
    summary="Create a batch task and get a presigned POST to upload its file",
    responses={
        201: {
            "headers": {
                "Cache-Control": {
                    "description": f"`{PRESIGNED_CACHE}`: it holds a presigned POST",
                    "schema": {"type": "string"},
                }
            }
        },
        **problem_responses(400, 404, 409, 413, 415),
    },
)
def create_batch(
    body: CreateBatchRequest,
    request: Request,
    response: Response,
    idempotency_key: str | None = IdempotencyKeyHeader,
    tenant: str = scoped(Scope.ANALYZE),
    batches: BatchCreation = Depends(wiring.batch_creation),
    idempotency_store: Callable[[], Any] = Depends(deps.idempotency_store),
    models: ModelRepository = Depends(wiring.model_repository),
) -> BatchCreated:
    # The answer holds a presigned POST: no cache may store it.
    response.headers["Cache-Control"] = PRESIGNED_CACHE

    tasks, settings = batches.tasks, batches.settings

    def create() -> BatchCreated:
        check_baseline(tenant, body.options, tasks)
        check_task_model(tenant, body.options.model_id, models=models)
        options = resolve_options(
            # The request's options, with the tenant's default model where they name none.
            with_default_model(tenant, body.options, settings.default_engine, models=models),
            settings,
        )
        check_teach(options, settings, batch=True)
        command = NewBatch(
            tenant=tenant,
            filename=body.filename,
            file_format=body.format,
            text_field=body.text_field,
            id_field=body.id_field,
            options=options,
            correlation_id=request_id(request),
        )
        task, upload = create_batch_task(command, batches)
        return BatchCreated(
            task=TaskView.of(task, settings),
            upload=UploadView(
                url=upload.url, fields=upload.fields, expires_at=upload.expires_at, max_bytes=upload.max_bytes
            ),
        )

    return answer_once(
        request,
        tenant=tenant,
        key=idempotency_key,
        operation="create_batch",
        body=body,
        output_model=BatchCreated,
        produce=create,
        store=idempotency_store,
        # The answer holds a presigned POST: replaying it after the POST expired would be a lie.
        keep_seconds=settings.upload_url_ttl_seconds,
    )
