from fastapi import APIRouter, Depends, Query

from reviewpulse.api import dependencies as deps
from reviewpulse.api.auth import caller_tenant
from reviewpulse.api.problems import problem_responses
from reviewpulse.api.schemas import TaskPage, TaskView
from reviewpulse.tasks.model import TaskStatus
from reviewpulse.tasks.repository import TaskRepository

router = APIRouter()


@router.get(
    "/v1/tasks", response_model=TaskPage, summary="The caller's tasks, newest first", responses=problem_responses(400)
)
def list_tasks(
    status: TaskStatus | None = Query(default=None),
    limit: int = Query(default=50, ge=1, le=200),
    # Unbounded here: decode_cursor answers any cursor this API did not give with invalid-cursor.
    cursor: str | None = Query(default=None),
    tenant: str = Depends(caller_tenant),
    tasks: TaskRepository = Depends(deps.task_repository),
) -> TaskPage:
    found, next_cursor = tasks.list(tenant, status=status, limit=limit, cursor=cursor)
    return TaskPage(items=[TaskView.of(task) for task in found], next_cursor=next_cursor)
