from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from reviewpulse.api import dependencies as deps
from reviewpulse.api.auth import scoped
from reviewpulse.api.fields import fields_query, selected_fields
from reviewpulse.api.paging import list_tasks_page
from reviewpulse.api.problems import problem_responses
from reviewpulse.api.schemas import TaskPage, TaskSelectionPage, TaskView
from reviewpulse.cursors import CursorSigner
from reviewpulse.tasks.model import TaskStatus
from reviewpulse.tasks.repository import TaskRepository
from reviewpulse.tenants.scopes import Scope

router = APIRouter()


@router.get(
    "/v1/tasks",
    operation_id="listTasks",
    tags=["tasks"],
    response_model=TaskPage | TaskSelectionPage,
    summary="The caller's tasks, newest first",
    responses=problem_responses(400),
)
def list_tasks(
    status: TaskStatus | None = Query(default=None),
    limit: int = Query(default=50, ge=1, le=200),
    # No length limit here: a cursor that is too long is not one we issued (invalid-cursor).
    cursor: str | None = Query(default=None, description="`next_cursor` of the previous page, as given"),
    fields: str | None = fields_query(TaskView),
    tenant: str = scoped(Scope.READ),
    tasks: TaskRepository = Depends(deps.task_repository),
    signer: CursorSigner = Depends(deps.cursor_signer),
) -> JSONResponse:
    selected = selected_fields(fields, TaskView)
    page = list_tasks_page(tasks, signer, tenant, status=status, limit=limit, cursor=cursor)
    body = TaskPage(items=[TaskView.of(task) for task in page.items], next_cursor=page.next_cursor)
    return JSONResponse(
        body.model_dump(
            mode="json",
            include={"items": {"__all__": set(selected)}, "next_cursor": True} if selected is not None else None,
        )
    )
