"""The chaos run, scaled down: every row comes back exactly once whatever the delivery does."""

from __future__ import annotations

import boto3
from reviewpulse_tools.bench.chaos import CRASH_STEPS, POISON, ChaosPlan, TwiceDeliveringPoller, install

from tests.integration.helpers import NEGATIVE, POSITIVE, results_of, upload

ROWS = 600


def test_every_row_comes_back_exactly_once_under_chaos(client, runner, stack, monkeypatch):
    # Given a 600-row batch in chunks of 20, 1 % of its rows poison, and a chaotic world
    monkeypatch.setenv("CHUNK_MAX_ITEMS", "20")
    texts = [(POSITIVE + NEGATIVE)[i % 6] for i in range(ROWS)]
    poison_rows = set(range(7, ROWS + 1, 100))
    for row in poison_rows:
        texts[row - 1] = f"{POISON} {texts[row - 1]}"
    plan = ChaosPlan(transient_failure_rate=0.10, seed=11)
    install(runner, plan)
    task_id = upload(client, "chaos.txt", ("\n".join(texts) + "\n").encode())

    # When every message is delivered twice, crashes hit each step once, and 10 % of analyses fail
    poller = TwiceDeliveringPoller(runner, boto3.client("sqs"))
    poller.drain(max_rounds=2000)

    # Then the task is ready and its counts equal the input exactly
    task = client.call("GET", f"/v1/tasks/{task_id}").json()
    assert task["status"] == "ready", task
    assert task["progress"]["total"] == ROWS
    assert task["progress"]["processed"] + task["progress"]["failed"] == ROWS
    # And every input row appears exactly once, as a result or a per-row error
    items = results_of(client, task_id)
    assert [item["row"] for item in items] == list(range(1, ROWS + 1))
    errors = {item["row"]: item["error"]["code"] for item in items if item.get("error")}
    # Exactly the poison rows are per-row errors: every transient failure was retried, not written off
    assert errors == {row: "analysis-failed" for row in poison_rows}
    assert task["progress"] == {"total": ROWS, "processed": ROWS - len(poison_rows), "failed": len(poison_rows)}
    assert plan.transient_failures > 0
    # And every step crashed once, and each failed delivery was redelivered exactly once
    assert set(plan.crashed) == {*CRASH_STEPS, "during finalization"}
    assert poller.failures > 0
    assert poller.redelivery_ratio() == 1.0
