"""A quote before spending, over HTTP on the running local stack (its llm engine is the fake
server): the API's quote → start, and the CLI's `analyze --quote --yes` and `tenants budget`."""

from __future__ import annotations

import time

import httpx

from tests.local.test_local_stack import NEGATIVE, POSITIVE, run_cli, wait_until_done


def wait_for(api, task_id: str, status: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = api.get(f"/v1/tasks/{task_id}").json()
        if task["status"] in (status, "error"):
            return task
        time.sleep(0.2)
    raise AssertionError(f"task {task_id} did not become {status}: {task}")


def test_a_quoted_batch_is_started_over_http_and_runs_on_its_upload(api):
    # Given a quote-only llm batch, uploaded once by its presigned POST
    options = {"engine": "llm", "quote_only": True}
    created = api.post("/v1/batches", json={"filename": "q.txt", "options": options}).json()
    upload = created["upload"]
    content = "\n".join([POSITIVE, NEGATIVE, POSITIVE]) + "\n"
    response = httpx.post(upload["url"], data=upload["fields"], files={"file": ("q.txt", content.encode())}, timeout=30)
    assert response.status_code in (200, 204)
    task_id = created["task"]["task_id"]

    # When the splitter has counted it, Then it waits as quoted with its quote
    quoted = wait_for(api, task_id, "quoted")
    assert quoted["status"] == "quoted" and quoted["quote"]["items"] == 3 and quoted["quote"]["requests"] == 1
    assert quoted["quote"]["estimated_cost_usd"] > 0

    # When it is started, Then it runs to ready on the same upload, every row by the LLM
    started = api.post(f"/v1/tasks/{task_id}/start")
    assert started.status_code == 200, started.text
    task = wait_until_done(api, task_id)
    assert task["status"] == "ready" and task["answered_by"] == {"llm": 3}
    assert task["usage"]["requests"] == 1 and task["budget"]["spent_usd"] > 0
    # And starting it again is a no-op answer; a task that was never quoted is a 409 problem
    assert api.post(f"/v1/tasks/{task_id}/start").json()["status"] == "ready"
    plain = api.post("/v1/tasks", json={"text": POSITIVE}).json()["task_id"]
    conflict = api.post(f"/v1/tasks/{plain}/start")
    assert conflict.status_code == 409 and conflict.json()["code"] == "task-not-quoted"
    assert conflict.headers["content-type"] == "application/problem+json"


def test_the_cli_quotes_then_starts_and_sets_a_tenants_budget(local, tmp_path):
    # Given a small file
    source = tmp_path / "r.txt"
    source.write_text(f"{POSITIVE}\n{NEGATIVE}\n")
    # When the CLI analyses it with a quote, started without asking (--yes)
    done = run_cli(local, "analyze", str(source), "--engine", "llm", "--quote", "--yes", "--no-progress",
                   "--out", str(tmp_path / "out.csv"))  # fmt: skip
    # Then it showed the quote first, and ran the task to its results
    assert done.returncode == 0, done.stderr
    assert "quote for task" in done.stderr and "2 items, 2 to the LLM in 1 requests" in done.stderr
    assert "2 analysed of 2 rows" in done.stdout
    # And a tenant's monthly budget is set and shown on the local stack
    budget = run_cli(local, "tenants", "budget", "--local", "--tenant", "acme-budget", "--usd", "12.5")
    assert budget.returncode == 0, budget.stderr
    assert "tenant acme-budget: monthly budget $12.50; spent in" in budget.stdout
