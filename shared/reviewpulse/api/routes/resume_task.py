from fastapi import APIRouter, Body, Depends, Request

from reviewpulse.api import dependencies as deps
from reviewpulse.api.auth import request_id, scoped
from reviewpulse.api.problems import problem_responses
from reviewpulse.api.schemas import ResumeRequest, TaskView
from reviewpulse.errors import NotFound
from reviewpulse.queues import WorkQueue
from reviewpulse.settings import Settings
from reviewpulse.storage.paused_chunks import PausedChunks
from reviewpulse.tasks.model import is_valid_task_id
from reviewpulse.tasks.repository import TaskRepository
from reviewpulse.tenants.budgets import BudgetRepository
from reviewpulse.tenants.scopes import Scope
from reviewpulse.usecases.resume_task import resume_task

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
    tasks: TaskRepository = Depends(deps.task_repository),
    budgets: BudgetRepository = Depends(deps.budget_repository),
    paused_chunks: PausedChunks = Depends(deps.paused_chunks),
    queue: WorkQueue = Depends(deps.work_queue),
    settings: Settings = Depends(deps.settings),
) -> TaskView:
    task = tasks.get(tenant, task_id) if is_valid_task_id(task_id) else None
    if task is None:
        raise NotFound("no such task")
    resumed = resume_task(
        task,
        max_cost_usd=body.max_cost_usd if body is not None else None,
        tasks=tasks,
        budgets=budgets,
        paused_chunks=paused_chunks,
        queue=queue,
        settings=settings,
        correlation_id=request_id(request),
    )
    return TaskView.of(resumed, settings)
