"""The load run's pass criteria (bench/load.py), checked after the load stops: what the users
made and saw (the Ledger), every task terminal within SETTLE_SECONDS, every batch's rows counted
exactly once, no 5xx answer and a Retry-After on every 429."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import gevent
from gevent.pool import Pool

if TYPE_CHECKING:
    import requests

TERMINAL = {"ready", "error", "cancelled"}
SETTLE_SECONDS = 300  # after the load stops, every task must have ended within this
CHECK_ATTEMPTS = 5  # the checks' reads: tries of one that answers 5xx
CHECK_POLLERS, CHECK_POLL_SECONDS = 8, 2.0  # the checks poll this many tasks at once, this often


@dataclass
class Ledger:
    """What the users made and saw, for the checks after the load."""

    tasks: set[str] = field(default_factory=set)  # every task id a 2xx answer created
    batches: dict[str, list[str]] = field(default_factory=dict)  # uploaded batch → its row ids
    not_uploaded: set[str] = field(default_factory=set)  # batches created, their upload not sent
    statuses: Counter = field(default_factory=Counter)  # (route, status) → answers
    throttled_without_retry_after: Counter = field(default_factory=Counter)  # route → 429s
    final: dict[str, dict] = field(default_factory=dict)  # task → its body when the checks saw it end
    unfinished: set[str] = field(default_factory=set)  # tasks the checks saw not terminal after the bound


def _get(session: requests.Session, url: str, **kwargs: Any) -> requests.Response:
    """The checks' own reads, waiting out a 429 as a client would, and trying a 5xx again a few
    times (a stack still busy with the load's backlog; the users' 5xx are what the run counts)."""
    for attempt in range(CHECK_ATTEMPTS):
        response = session.get(url, timeout=60, **kwargs)
        if response.status_code == 429:
            gevent.sleep(float(response.headers.get("retry-after", "1")))
        elif response.status_code >= 500 and attempt < CHECK_ATTEMPTS - 1:
            gevent.sleep(2 * (attempt + 1))
        else:
            return response
    return response


def check(api_url: str, api_key: str, ledger: Ledger, settle_seconds: float = SETTLE_SECONDS) -> list[str]:
    """After the load: every task terminal within the bound, every batch's rows exactly once."""
    import requests  # after Locust (its import patches ssl for gevent, which must come first)

    problems: list[str] = []
    session = requests.Session()
    session.headers["X-Api-Key"] = api_key
    deadline = time.monotonic() + settle_seconds
    final = ledger.final

    def settle(task_id: str) -> None:
        while True:
            response = _get(session, f"{api_url}/v1/tasks/{task_id}")
            body = response.json() if response.status_code == 200 else {}
            if body.get("status") in TERMINAL:
                final[task_id] = body
                return
            if time.monotonic() > deadline:
                ledger.unfinished.add(task_id)
                problems.append(
                    f"task {task_id} not terminal {settle_seconds:.0f} s after the load: {body.get('status')}"
                )
                return
            gevent.sleep(CHECK_POLL_SECONDS)

    # Tasks a client never heard of (its answer was a 502 or never came, after the task was
    # written) must end too: the tenant's whole list, but for batches still waiting for an upload
    # that was never sent (`accepted`; the sweeper ends them as upload-expired after an hour).
    unheard: set[str] = set()
    params = {"limit": 100, "fields": "task_id,type,status"}
    while True:
        listed = _get(session, f"{api_url}/v1/tasks", params=params)
        if listed.status_code != 200:
            problems.append(f"the tenant's task list answered {listed.status_code}: its tasks were not all checked")
            break
        page = listed.json()
        for item in page["items"]:
            waiting = item["type"] == "batch" and item["status"] == "accepted" and item["task_id"] not in ledger.batches
            if item["status"] not in TERMINAL and not waiting:
                unheard.add(item["task_id"])
        if not page.get("next_cursor"):
            break
        params = {**params, "cursor": page["next_cursor"]}
    Pool(CHECK_POLLERS).map(settle, sorted((ledger.tasks - ledger.not_uploaded) | unheard))
    for task_id, ids in ledger.batches.items():
        body = final.get(task_id)
        if body is None:
            continue
        if body["status"] != "ready":
            problems.append(f"batch {task_id} ended {body['status']}: {body.get('error')}")
            continue
        progress = body["progress"]
        if progress["total"] != len(ids) or progress["processed"] + progress["failed"] != progress["total"]:
            problems.append(f"batch {task_id}: {len(ids)} rows uploaded, progress {progress}")
        counted = sum(body.get("summary", {}).get("counts", {}).values())
        if counted != progress["processed"]:
            problems.append(f"batch {task_id}: summary counts {counted} != processed {progress['processed']}")
        seen: Counter = Counter()
        params: dict[str, Any] = {"limit": 1000, "fields": "id"}
        while True:
            read = _get(session, f"{api_url}/v1/tasks/{task_id}/results", params=params)
            if read.status_code != 200:
                problems.append(f"batch {task_id}: its results answered {read.status_code}")
                break
            page = read.json()
            seen.update(item["id"] for item in page["items"])
            if not page.get("next_cursor"):
                break
            params = {"limit": 1000, "fields": "id", "cursor": page["next_cursor"]}
        if seen != Counter(ids):
            problems.append(f"batch {task_id}: results hold {sum(seen.values())} rows, not each of {len(ids)} once")
    return problems + check_answers(ledger)


def check_answers(ledger: Ledger) -> list[str]:
    """The answers the users got: no 5xx (nor none at all), a Retry-After on every 429."""
    problems = []
    server_errors = {key: n for key, n in ledger.statuses.items() if key[1] >= 500 or key[1] == 0}
    if server_errors:
        problems.append(f"5xx or no answer: {server_errors}")
    if ledger.throttled_without_retry_after:
        problems.append(f"429 without Retry-After: {dict(ledger.throttled_without_retry_after)}")
    return problems
