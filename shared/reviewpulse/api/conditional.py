"""Conditional requests and what caches may keep: ETags made of the task's version (decided before
any body is built, so polling an unchanged task costs one GetItem and no body), If-None-Match,
and the Cache-Control each answer can truthfully carry.

Some answers hold presigned URLs (a ready task's report, a results page's files), which expire.
Their tags also name the current *link period* — half the links' lifetime — so a 304 never
confirms a copy whose links are about to lapse, and a page's max-age ends with its period: a kept
copy's links stay valid for at least half their lifetime.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from fastapi import Header, Response

from reviewpulse.clock import now
from reviewpulse.tasks.model import Task

IfNoneMatchHeader = Header(
    default=None,
    alias="If-None-Match",
    description="The `ETag` of the copy you hold: 304 with no body while it is still current",
)

# Task state changes while the task runs: a cache may keep it, but must ask first.
TASK_STATE_CACHE = "private, no-cache"
# Presigned URLs are bearer links: nothing should store them (a ready task's report link, an upload).
PRESIGNED_CACHE = "no-store"

NOT_MODIFIED_RESPONSE = {304: {"description": "Not modified: the `If-None-Match` tag is the current one"}}
ETAG_HEADER_DOC = {
    "ETag": {"description": "Strong tag of this answer, from the task's version", "schema": {"type": "string"}}
}


def cache_headers(description: str) -> dict[str, dict[str, object]]:
    """OpenAPI response headers of an answer that carries ETag and Cache-Control."""
    return {**ETAG_HEADER_DOC, "Cache-Control": {"description": description, "schema": {"type": "string"}}}


def link_period(link_seconds: int, at: datetime | None = None) -> tuple[int, int]:
    """The current link period's number and the seconds left in it."""
    length = max(1, link_seconds // 2)
    epoch = int((at or now()).timestamp())
    return epoch // length, length - epoch % length


def task_etag(task: Task, *, link_seconds: int | None = None) -> str:
    """The task view's tag: its version, and the link period when the view holds a presigned link."""
    period = f".p{link_period(link_seconds)[0]}" if link_seconds else ""
    return f'"{task.task_id}.v{task.version}{period}"'


def page_etag(task: Task, *, cursor: str | None, limit: int, fields: frozenset[str] | None, link_seconds: int) -> str:
    """A results page's tag: the task's version and what picks the page (cursor, limit, fields).
    The request's parameters are hashed, not the page: it is decided before the page is read."""
    picked = f"{cursor or ''}\n{limit}\n{','.join(sorted(fields)) if fields else '*'}"
    digest = hashlib.sha256(picked.encode()).hexdigest()[:16]
    return f'"{task.task_id}.v{task.version}.{digest}.p{link_period(link_seconds)[0]}"'


def none_match(if_none_match: str | None, etag: str) -> bool:
    """Whether If-None-Match names `etag` (or is `*`): then the answer is 304. Compared weakly, as
    RFC 9110 says for If-None-Match. Written here: it is a comma-split of at most a few tags, and
    the runtime has no HTTP library that exposes it."""
    if not if_none_match:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag.removeprefix("W/") in tags


def not_modified(etag: str, cache_control: str) -> Response:
    """304 with no body, and the validators the 200 would have carried."""
    return Response(status_code=304, headers={"ETag": etag, "Cache-Control": cache_control})


def page_cache_control(link_seconds: int) -> str:
    """Pages of a ready task never change; they hold links to the result files, so a copy is fresh
    only until its link period ends."""
    return f"private, max-age={link_period(link_seconds)[1]}"
