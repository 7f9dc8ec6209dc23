"""GET /v1/tasks/{task_id}/insights: a ready task's segments, time buckets and aspects."""

from fastapi import APIRouter, Depends

from reviewpulse.api import dependencies as deps
from reviewpulse.api.auth import scoped
from reviewpulse.api.problems import problem_responses
from reviewpulse.errors import NotFound, TaskNotReady
from reviewpulse.results.insights import Insights
from reviewpulse.storage.layout import insights_key
from reviewpulse.storage.result_files import ResultFiles
from reviewpulse.tasks.model import TaskStatus, is_valid_task_id
from reviewpulse.tasks.repository import TaskRepository
from reviewpulse.tenants.scopes import Scope

router = APIRouter()


@router.get(
    "/v1/tasks/{task_id}/insights",
    operation_id="getInsights",
    tags=["results"],
    response_model=Insights,
    summary="The batch per segment, over time and per aspect: shares, mean score, net sentiment with its interval",
    responses=problem_responses(404, 409),
)
def get_insights(
    task_id: str,
    tenant: str = scoped(Scope.READ),
    tasks: TaskRepository = Depends(deps.task_repository),
    result_files: ResultFiles = Depends(deps.result_files),
) -> Insights:
    # Another tenant's task is looked up under the caller's tenant: it answers like a missing one.
    task = tasks.get(tenant, task_id) if is_valid_task_id(task_id) else None
    if task is None:
        raise NotFound("no such task")
    if task.status is not TaskStatus.READY:
        raise TaskNotReady(f"task is {task.status.value}; insights exist once it is ready")
    body = result_files.read_object(insights_key(task.tenant, task.task_id))
    if body is None:
        raise NotFound("this task was finished before insights existed; analyse its file again for them")
    return Insights.model_validate_json(body)
