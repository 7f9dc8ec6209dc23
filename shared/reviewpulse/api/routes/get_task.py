from fastapi import APIRouter, Depends

from reviewpulse.api import dependencies as deps
from reviewpulse.api.auth import caller_tenant
from reviewpulse.api.problems import problem_responses
from reviewpulse.api.schemas import TaskView
from reviewpulse.errors import NotFound
from reviewpulse.settings import Settings
from reviewpulse.storage.layout import report_key
from reviewpulse.storage.result_files import ResultFiles
from reviewpulse.tasks.model import TaskStatus, is_valid_task_id
from reviewpulse.tasks.repository import TaskRepository

router = APIRouter()


@router.get(
    "/v1/tasks/{task_id}",
    operation_id="getTask",
    tags=["tasks"],
    response_model=TaskView,
    summary="A task's status, progress and summary",
    responses=problem_responses(404),
)
def get_task(
    task_id: str,
    tenant: str = Depends(caller_tenant),
    tasks: TaskRepository = Depends(deps.task_repository),
    result_files: ResultFiles = Depends(deps.result_files),
    settings: Settings = Depends(deps.settings),
) -> TaskView:
    # Another tenant's task is looked up under the caller's tenant, so it answers exactly like a
    # missing one.
    task = tasks.get(tenant, task_id) if is_valid_task_id(task_id) else None
    if task is None:
        raise NotFound("no such task")
    # Every task finalized since reports exist has one; presigning makes no AWS call.
    report_url = (
        result_files.presigned_get(report_key(task.tenant, task.task_id), settings.results_url_ttl_seconds)
        if task.status is TaskStatus.READY
        else None
    )
    return TaskView.of(task, report_url=report_url)
