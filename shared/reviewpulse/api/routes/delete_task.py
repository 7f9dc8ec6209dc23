from fastapi import APIRouter, Depends, Query, Response

from reviewpulse.api import dependencies as deps
from reviewpulse.api.auth import scoped
from reviewpulse.api.problems import problem_responses
from reviewpulse.api.schemas import TaskView
from reviewpulse.errors import NotFound
from reviewpulse.storage.inputs import InputFiles
from reviewpulse.storage.result_files import ResultFiles
from reviewpulse.tasks.model import is_valid_task_id
from reviewpulse.tasks.repository import TaskRepository
from reviewpulse.tenants.scopes import Scope
from reviewpulse.usecases.delete_task import cancel_task, purge_task

router = APIRouter()


@router.delete(
    "/v1/tasks/{task_id}",
    operation_id="deleteTask",
    tags=["tasks"],
    response_model=TaskView,
    summary="Cancel a task; with purge=true also delete its upload, results and record",
    responses={**problem_responses(404, 409), 204: {"description": "purged: nothing of the task is left"}},
)
def delete_task(
    task_id: str,
    purge: bool = Query(default=False, description="also delete the task's stored data"),
    # Cancel or purge: who submits work may stop it; a read-only dashboard may not delete.
    tenant: str = scoped(Scope.ANALYZE),
    tasks: TaskRepository = Depends(deps.task_repository),
    input_files: InputFiles = Depends(deps.input_files),
    result_files: ResultFiles = Depends(deps.result_files),
):
    task = tasks.get(tenant, task_id) if is_valid_task_id(task_id) else None
    if task is None:
        raise NotFound("no such task")
    if purge:
        purge_task(task, tasks=tasks, input_files=input_files, result_files=result_files)
        return Response(status_code=204)
    return TaskView.of(cancel_task(task, tasks=tasks))
