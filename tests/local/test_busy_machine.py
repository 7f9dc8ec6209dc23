"""The local stack on a busy machine: with every core kept busy by other processes, a slice of
what the local tests do still answers within API Gateway's 29 s integration limit, without a 5xx.

(One request used to take longer than that: each function's first invocation started its
execution environment, a fresh interpreter importing its dependencies, on the request's path.
The stack now starts them all before it says it is ready.)"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from reviewpulse_tools.local.apigateway import INTEGRATION_TIMEOUT_SECONDS

# Each hog ends itself after this long, whatever happens to the test.
HOG_SECONDS = 180
HOG = f"import time\nend = time.monotonic() + {HOG_SECONDS}\nwhile time.monotonic() < end:\n    pass\n"


@pytest.fixture
def busy_cores() -> Iterator[int]:
    """One busy-looping process per core, stopped when the test ends."""
    hogs = [subprocess.Popen([sys.executable, "-c", HOG]) for _ in range(max(2, os.cpu_count() or 1))]
    try:
        yield len(hogs)
    finally:
        for hog in hogs:
            hog.kill()
        for hog in hogs:
            hog.wait(timeout=10)


@pytest.mark.cpu_hog
def test_requests_answer_within_the_integration_limit_while_every_core_is_busy(local, api, busy_cores):
    # Given every core kept busy by other processes
    assert busy_cores >= 2

    # When a client lists, creates and cancels batches, uploads a file and analyses a text
    listed = api.get("/v1/tasks")
    created = api.post("/v1/batches", json={"filename": "busy.csv"})
    cancelled = api.delete(f"/v1/tasks/{created.json()['task']['task_id']}")
    second = api.post("/v1/batches", json={"filename": "busy.csv"}).json()
    upload = second["upload"]
    uploaded = httpx.post(
        upload["url"],
        data=upload["fields"],
        files={"file": ("busy.csv", b"id,review\nr1,Lovely and works well\nr2,Broke at once\n")},
        timeout=INTEGRATION_TIMEOUT_SECONDS,
    )
    single = api.post("/v1/tasks", json={"text": "Absolutely love it"})
    missing = api.delete("/v1/tasks/" + "0" * 28)

    # Then every answer came within the client's 29 s timeout (httpx raises otherwise), none a 5xx
    assert [listed.status_code, created.status_code, cancelled.status_code] == [200, 201, 200]
    assert cancelled.json()["status"] == "cancelled"
    assert uploaded.status_code == 204
    assert single.status_code == 202 and missing.status_code == 404
    # And both tasks still end (the pipeline keeps moving under load)
    for task_id in (single.json()["task_id"], second["task"]["task_id"]):
        deadline = time.monotonic() + 120
        while (status := api.get(f"/v1/tasks/{task_id}").json()["status"]) not in ("ready", "error"):
            assert time.monotonic() < deadline, f"task {task_id} still {status}"
            time.sleep(0.5)
        assert status == "ready"
