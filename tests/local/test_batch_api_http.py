"""Batch API mode on the local stack as a user runs it: `reviewpulse dev --fake-llm`, whose
scheduler runs the collector from template.yaml's schedule (every 3 s here), over HTTP."""

from __future__ import annotations

import time

from tests.local.test_local_stack import NEGATIVE, POSITIVE


def test_a_batch_mode_text_is_answered_through_the_batch_api(api):
    # Given a text on the llm engine in batch mode
    created = api.post("/v1/tasks", json={"text": POSITIVE, "options": {"engine": "llm", "mode": "batch"}})
    assert created.status_code == 202, created.text
    task_id = created.json()["task_id"]

    # When the scheduled collector submits it, collects its answer and counts it
    deadline = time.monotonic() + 120
    while (task := api.get(f"/v1/tasks/{task_id}").json())["status"] not in ("ready", "error"):
        assert time.monotonic() < deadline, task
        time.sleep(0.5)

    # Then it is ready, answered by the LLM through one completed provider batch, at the batch price
    assert task["status"] == "ready" and task["answered_by"] == {"llm": 1}
    assert task["usage"]["batch_requests"] == task["usage"]["requests"] == 1
    assert [(b["round"], b["status"]) for b in task["llm_batch"]["batches"]] == [(0, "completed")]
    assert api.get(f"/v1/tasks/{task_id}/results").json()["items"][0]["label"] == "positive"


def test_batch_mode_on_the_lexicon_is_refused(api):
    response = api.post("/v1/tasks", json={"text": NEGATIVE, "options": {"engine": "lexicon", "mode": "batch"}})
    assert response.status_code == 400 and response.json()["code"] == "batch-mode-unavailable"
