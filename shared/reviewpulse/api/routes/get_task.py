from fastapi import APIRouter, Depends

from reviewpulse.api import dependencies as deps
from reviewpulse.api.auth import caller_tenant
from reviewpulse.api.problems import problem_responses
from reviewpulse.api.schemas import TaskView
from reviewpulse.errors import NotFound
from reviewpulse.tasks.model import is_valid_task_id
from reviewpulse.tasks.repository import TaskRepository

router = APIRouter()


@router.get(
    "/v1/tasks/{task_id}",
    response_model=TaskView,
    summary="A task's status, progress and summary",
    responses=problem_responses(404),
)
def get_task(
    task_id: str,
    tenant: str = Depends(caller_tenant),
    tasks: TaskRepository = Depends(deps.task_repository),
) -> TaskView:
    # Another tenant's task is looked up under the caller's tenant, so it answers exactly like a
    # missing one.
    task = tasks.get(tenant, task_id) if is_valid_task_id(task_id) else None
    if task is None:
        raise NotFound("no such task")
    return TaskView.of(task)
