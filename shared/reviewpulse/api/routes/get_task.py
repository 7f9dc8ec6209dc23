from fastapi import APIRouter, Depends, Response

from reviewpulse.api import dependencies as deps
from reviewpulse.api.auth import scoped
from reviewpulse.api.conditional import (
    NOT_MODIFIED_RESPONSE,
    PRESIGNED_CACHE,
    TASK_STATE_CACHE,
    IfNoneMatchHeader,
    cache_headers,
    none_match,
    not_modified,
    task_etag,
)
from reviewpulse.api.problems import problem_responses
from reviewpulse.api.schemas import TaskView
from reviewpulse.errors import NotFound
from reviewpulse.settings import Settings
from reviewpulse.storage.layout import report_key
from reviewpulse.storage.result_files import ResultFiles
from reviewpulse.tasks.model import TaskStatus, is_valid_task_id
from reviewpulse.tasks.repository import TaskRepository
from reviewpulse.tenants.scopes import Scope

router = APIRouter()


@router.get(
    "/v1/tasks/{task_id}",
    operation_id="getTask",
    tags=["tasks"],
    response_model=TaskView,
    summary="A task's status, progress and summary",
    responses={
        200: {
            "headers": cache_headers(
                f"`{TASK_STATE_CACHE}` while the task has no presigned link; "
                f"`{PRESIGNED_CACHE}` once ready (the view holds the report's presigned link)"
            )
        },
        **NOT_MODIFIED_RESPONSE,
        **problem_responses(404),
    },
)
def get_task(
    task_id: str,
    response: Response,
    if_none_match: str | None = IfNoneMatchHeader,
    tenant: str = scoped(Scope.READ),
    tasks: TaskRepository = Depends(deps.task_repository),
    result_files: ResultFiles = Depends(deps.result_files),
    settings: Settings = Depends(deps.settings),
) -> TaskView | Response:
    # Another tenant's task is looked up under the caller's tenant, so it answers exactly like a
    # missing one.
    task = tasks.get(tenant, task_id) if is_valid_task_id(task_id) else None
    if task is None:
        raise NotFound("no such task")
    # Every task finalized since reports exist has one; presigning makes no AWS call.
    with_link = task.status is TaskStatus.READY
    ttl = settings.results_url_ttl_seconds
    etag = task_etag(task, link_seconds=ttl if with_link else None)
    cache_control = PRESIGNED_CACHE if with_link else TASK_STATE_CACHE
    # Decided from the stored version alone: an unchanged task costs no view and no presigning.
    if none_match(if_none_match, etag):
        return not_modified(etag, cache_control)
    report_url = result_files.presigned_get(report_key(task.tenant, task.task_id), ttl) if with_link else None
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = cache_control
    return TaskView.of(task, report_url=report_url)
