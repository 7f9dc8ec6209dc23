from fastapi import APIRouter, Body, Depends, Request

from reviewpulse import wiring
from reviewpulse.api.auth import request_id, scoped
from reviewpulse.api.problems import problem_responses
from reviewpulse.api.schemas import ResumeRequest, TaskView
from reviewpulse.errors import NotFound
from reviewpulse.tasks.model import is_valid_task_id
from reviewpulse.tenants.scopes import Scope
from reviewpulse.usecases.resume_task import ResumeTask, Resuming, resume_task

router = APIRouter()


@router.post(
    "/v1/tasks/{task_id}/resume",
    operation_id="resumeTask",
    tags=["tasks"],
    response_model=TaskView,
    summary="Continue a task a budget paused (optionally with a higher max_cost_usd)",
    responses=problem_responses(404, 409, 413),
)
def resume(
    task_id: str,
    request: Request,
    body: ResumeRequest | None = Body(default=None),
    tenant: str = scoped(Scope.ANALYZE),
    resuming: Resuming = Depends(wiring.resuming),
) -> TaskView:
    task = resuming.tasks.get(tenant, task_id) if is_valid_task_id(task_id) else None
    if task is None:
        raise NotFound("no such task")
    command = ResumeTask(task, body.max_cost_usd if body is not None else None, correlation_id=request_id(request))
    return TaskView.of(resume_task(command, resuming), resuming.settings)
