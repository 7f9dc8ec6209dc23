"""Every task that ends is announced once on the stack's event bus, whoever ends it: the tasks
table's stream carries the write that ended it to PublishTaskEventsFunction (the outbox).

A user's rule on the bus (the template exports it) with an SQS target receives the events, through
moto's EventBridge, as it would in AWS.
"""

from __future__ import annotations

import json
from datetime import timedelta

from reviewpulse.clock import now
from reviewpulse.usecases.sweep import sweep
from reviewpulse.wiring import task_repository

from tests.conftest import load_event
from tests.integration.helpers import NEGATIVE, POSITIVE, upload


def by_task(events: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for event in events:
        grouped.setdefault(event["detail"]["task_id"], []).append(event)
    return grouped


def test_ready_failed_and_cancelled_tasks_each_send_one_event(client, poller, received):
    # Given a text that is analysed, a file that cannot be read, and a batch cancelled by its owner
    ready = client.call("POST", "/v1/tasks", {"text": POSITIVE[0]}).json()["task_id"]
    failed = upload(client, "empty.csv", b"")
    cancelled = client.call("POST", "/v1/batches", {"filename": "later.csv"}).json()["task"]["task_id"]
    assert client.call("DELETE", f"/v1/tasks/{cancelled}").status == 200

    # When the pipeline has run
    poller.drain()
    events = by_task(received())

    # Then each task sent exactly one event, of the type of its end
    assert {task: len(found) for task, found in events.items()} == {ready: 1, failed: 1, cancelled: 1}
    assert [e["detail-type"] for e in events[ready]] == ["Task Ready"]
    assert [e["detail-type"] for e in events[failed]] == ["Task Failed"]
    assert [e["detail-type"] for e in events[cancelled]] == ["Task Cancelled"]
    detail = events[ready][0]["detail"]
    assert events[ready][0]["source"] == "reviewpulse"
    assert detail["tenant"] == "acme" and detail["type"] == "text" and detail["status"] == "ready"
    assert detail["counts"] == {"total": 1, "processed": 1, "failed": 0}
    assert detail["summary"]["counts"]["positive"] == 1
    assert detail["links"] == {
        "task": f"/v1/tasks/{ready}",
        "results": f"/v1/tasks/{ready}/results",
        "insights": f"/v1/tasks/{ready}/insights",
    }
    assert events[failed][0]["detail"]["error"]["code"] == "empty-file"
    # And no event carries a presigned URL, a key or the customer's text
    everything = json.dumps(events)
    assert "X-Amz-Signature" not in everything and "rp_" not in everything and POSITIVE[0] not in everything
    # And each event has its own id
    assert len({found[0]["detail"]["event_id"] for found in events.values()}) == 3


def test_a_redelivered_finalize_request_or_dead_letter_sends_no_second_event(client, poller, runner, received):
    # Given a batch that is ready, its event received
    task_id = upload(client, "r.txt", ("\n".join(POSITIVE + NEGATIVE) + "\n").encode())
    poller.drain()
    assert [e["detail-type"] for e in received()] == ["Task Ready"]

    # When its finalize request is delivered again, and a finalize dead letter arrives for it too
    finalize = load_event("finalize.json")
    finalize["Records"][0]["body"] = json.dumps({"tenant": "acme", "task_id": task_id})
    runner.invoke("FinalizeFunction", finalize)
    dead = load_event("dead_letter_finalize.json")
    dead["Records"][0]["body"] = json.dumps({"tenant": "acme", "task_id": task_id})
    runner.invoke("DeadLetterFunction", dead)
    poller.drain()  # the table's stream too

    # Then nothing more is announced: the transition was won once
    assert received() == []
    assert client.call("GET", f"/v1/tasks/{task_id}").json()["status"] == "ready"


def test_the_sweeper_announces_the_tasks_it_ends(client, streams, received):
    # Given a batch whose file never came
    abandoned = client.call("POST", "/v1/batches", {"filename": "never.csv"}).json()["task"]["task_id"]

    # When the sweeper ends it, twice over
    for _ in range(2):
        sweep(
            task_repository(),
            now=now() + timedelta(hours=2),
            upload_deadline=timedelta(minutes=60),
            stall_deadline=timedelta(minutes=300),
        )

    # Then, once the table's stream is read, one Task Failed event says why
    streams.drain()
    events = received()
    assert [(e["detail-type"], e["detail"]["task_id"], e["detail"]["error"]["code"]) for e in events] == [
        ("Task Failed", abandoned, "upload-expired")
    ]
