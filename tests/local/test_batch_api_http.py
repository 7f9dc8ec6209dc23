"""Batch API mode on the local stack as a user runs it: `reviewpulse dev --fake-llm`, whose
scheduler runs the collector from template.yaml's schedule (every 3 s here), over HTTP."""

from __future__ import annotations

import time

from tests.local.test_local_stack import NEGATIVE, POSITIVE, run_cli


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


def test_the_cli_runs_a_file_in_batch_mode(local, tmp_path):
    # Given a small file
    source = tmp_path / "reviews.txt"
    source.write_text(f"{POSITIVE}\n{NEGATIVE}\n")

    # When the CLI analyses it with the llm engine in batch mode
    done = run_cli(local, "analyze", str(source), "--no-progress", "--engine", "llm", "--mode", "batch",
                   "--out", str(tmp_path / "out.csv"))  # fmt: skip

    # Then it waits for the collector and prints the usage at the Batch API's price
    assert done.returncode == 0, done.stderr
    assert "2 analysed of 2 rows" in done.stdout
    assert "LLM: 1 requests" in done.stdout and "(1 requests at the Batch API's price)" in done.stdout
