from fastapi import APIRouter, Depends

from reviewpulse.api import dependencies as deps
from reviewpulse.api.problems import problem_responses
from reviewpulse.api.schemas import Health
from reviewpulse.errors import NotReady
from reviewpulse.observability import failure_fields, logger
from reviewpulse.tasks.repository import TaskRepository

router = APIRouter()


@router.get(
    "/health",
    operation_id="health",
    tags=["health"],
    response_model=Health,
    summary="Liveness and readiness (no API key needed)",
    responses=problem_responses(503, keyed=False, validated=False),
)
def health(tasks: TaskRepository = Depends(deps.task_repository)) -> Health:
    try:
        table_status = tasks.describe().get("TableStatus", "UNKNOWN")
    except Exception as exc:
        logger.error("tasks table unreachable", extra=failure_fields(exc))
        raise NotReady("the tasks table does not answer") from None
    if table_status != "ACTIVE":
        raise NotReady(f"the tasks table is {table_status}")
    return Health(status="ok", checks={"tasks_table": "ok"})
