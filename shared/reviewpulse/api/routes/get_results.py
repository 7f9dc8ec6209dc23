from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import JSONResponse

from reviewpulse.api import dependencies as deps
from reviewpulse.api.auth import scoped
from reviewpulse.api.conditional import (
    NOT_MODIFIED_RESPONSE,
    IfNoneMatchHeader,
    cache_headers,
    none_match,
    not_modified,
    page_cache_control,
    page_etag,
)
from reviewpulse.api.fields import fields_query, selected_fields
from reviewpulse.api.paging import read_results_page, results_offset
from reviewpulse.api.problems import problem_responses
from reviewpulse.api.schemas import ResultFiles, ResultItem, ResultPage, ResultSelectionPage
from reviewpulse.cursors import CursorSigner
from reviewpulse.errors import NotFound
from reviewpulse.settings import Settings
from reviewpulse.storage.layout import conversations_key
from reviewpulse.storage.result_files import ResultFiles as StoredResultFiles
from reviewpulse.tasks.model import is_valid_task_id
from reviewpulse.tasks.repository import TaskRepository
from reviewpulse.tenants.scopes import Scope

router = APIRouter()


@router.get(
    "/v1/tasks/{task_id}/results",
    operation_id="getResults",
    tags=["results"],
    response_model=ResultPage | ResultSelectionPage,
    summary="Per-item results, a page at a time, with links to the full results files",
    responses={
        200: {
            "headers": cache_headers(
                "`private, max-age=N`: a ready task's pages never change; N ends while the page's "
                "presigned links still have half their lifetime left"
            )
        },
        **NOT_MODIFIED_RESPONSE,
        **problem_responses(400, 404, 409),
    },
)
def get_results(
    task_id: str,
    limit: int = Query(default=100, ge=1, le=1000),
    # No length limit here: a cursor that is too long is not one we issued (invalid-cursor).
    cursor: str | None = Query(default=None, description="`next_cursor` of the previous page, as given"),
    fields: str | None = fields_query(ResultItem),
    if_none_match: str | None = IfNoneMatchHeader,
    tenant: str = scoped(Scope.READ),
    tasks: TaskRepository = Depends(deps.task_repository),
    # The stored files; api.schemas.ResultFiles is the response's links to them.
    result_files: StoredResultFiles = Depends(deps.result_files),
    settings: Settings = Depends(deps.settings),
    signer: CursorSigner = Depends(deps.cursor_signer),
) -> Response:
    selected = selected_fields(fields, ResultItem)
    task = tasks.get(tenant, task_id) if is_valid_task_id(task_id) else None
    if task is None:
        raise NotFound("no such task")
    ttl = settings.results_url_ttl_seconds
    # Not ready, or a cursor we did not issue, is answered as such before any tag is compared.
    results_offset(task, signer, cursor)
    etag = page_etag(task, cursor=cursor, limit=limit, fields=selected, link_seconds=ttl)
    cache_control = page_cache_control(ttl)
    if none_match(if_none_match, etag):
        return not_modified(etag, cache_control)
    page = read_results_page(task, result_files, signer, limit=limit, cursor=cursor)
    files = ResultFiles(
        jsonl=result_files.presigned_get(task.results_key or "", ttl),
        csv=result_files.presigned_get(task.results_csv_key or "", ttl),
        # Finalize writes the conversations file exactly when it counts conversations in the summary.
        conversations=(
            result_files.presigned_get(conversations_key(task.tenant, task.task_id), ttl)
            if task.summary is not None and task.summary.conversations is not None
            else None
        ),
        expires_at=datetime.now(UTC) + timedelta(seconds=ttl),
    )
    items = [ResultItem.model_validate(item.model_dump()) for item in page.items]
    body = ResultPage(items=items, next_cursor=page.next_cursor, files=files).model_dump(
        mode="json",
        include={"items": {"__all__": set(selected)}, "next_cursor": True, "files": True}
        if selected is not None
        else None,
    )
    return JSONResponse(body, headers={"ETag": etag, "Cache-Control": cache_control})
