from fastapi import APIRouter, Depends, Request

from reviewpulse.api import dependencies as deps
from reviewpulse.api.auth import request_id, scoped
from reviewpulse.api.problems import problem_responses
from reviewpulse.api.schemas import TaskView
from reviewpulse.errors import NotFound
from reviewpulse.queues import IngestQueue
from reviewpulse.tasks.model import is_valid_task_id
from reviewpulse.tasks.repository import TaskRepository
from reviewpulse.tenants.scopes import Scope
from reviewpulse.usecases.start_task import start_task

router = APIRouter()


@router.post(
    "/v1/tasks/{task_id}/start",
    operation_id="startTask",
    tags=["tasks"],
    response_model=TaskView,
    summary="Run a quoted batch (options.quote_only) on the file it was quoted on",
    responses=problem_responses(404, 409, 413),
)
def start(
    task_id: str,
    request: Request,
    tenant: str = scoped(Scope.ANALYZE),
    tasks: TaskRepository = Depends(deps.task_repository),
    ingest: IngestQueue = Depends(deps.ingest_queue),
) -> TaskView:
    task = tasks.get(tenant, task_id) if is_valid_task_id(task_id) else None
    if task is None:
        raise NotFound("no such task")
    return TaskView.of(start_task(task, tasks=tasks, ingest=ingest, correlation_id=request_id(request)))
