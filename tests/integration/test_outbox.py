"""The outbox: a task's event comes from the tasks table's stream, so it exists exactly when the
task's end does. The bus failing for a while as tasks end delays their events, never loses them;
a stream record delivered again sends nothing twice; webhook deliveries follow.

Faults are injected where AWS would fail: the PutEvents call itself raises, as an unreachable
EventBridge does after botocore's retries."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from reviewpulse.aws import add_api_call_listener, remove_api_call_listener
from reviewpulse_tools.local.sqs import QueuePoller
from reviewpulse_tools.local.streams import StreamPoller, streams_client

from tests.integration.helpers import NEGATIVE, POSITIVE
from tests.integration.test_completion_events import by_task
from tests.integration.test_webhooks import register


class Bus:
    """Counts PutEvents calls that went through, and fails them while `down` (or the next `fail`)."""

    def __init__(self) -> None:
        self.down = False
        self.fail_calls: set[int] = set()  # 1-based numbers of the calls to fail
        self.calls = 0
        self.put = 0

    def __call__(self, service: str, operation: str, params: dict) -> None:
        if (service, operation) != ("events", "PutEvents"):
            return
        self.calls += 1
        if self.down or self.calls in self.fail_calls:
            raise EndpointConnectionError(endpoint_url="https://events.us-east-1.amazonaws.com")
        self.put += 1


@pytest.fixture
def bus():
    watched = Bus()
    add_api_call_listener(watched)
    yield watched
    remove_api_call_listener(watched)


def test_tasks_that_end_during_a_bus_outage_announce_once_after_it(client, poller, streams, bus, received, receiver):
    # Given a webhook, and the event bus down
    register(client, receiver)
    bus.down = True

    # When tasks end during the outage: three analysed, one cancelled by its owner
    ended = [
        client.call("POST", "/v1/tasks", {"text": text}).json()["task_id"] for text in (*POSITIVE[:2], NEGATIVE[0])
    ]
    cancelled = client.call("POST", "/v1/batches", {"filename": "later.csv"}).json()["task"]["task_id"]
    assert client.call("DELETE", f"/v1/tasks/{cancelled}").status == 200
    for _ in range(3):  # the outage lasts: the stream keeps failing the same records
        poller.drain()

    # Then the tasks' ends stand, and nothing was announced: the records wait in the stream
    statuses = {t["task_id"]: t["status"] for t in client.call("GET", "/v1/tasks").json()["items"]}
    assert statuses == {**dict.fromkeys(ended, "ready"), cancelled: "cancelled"}
    assert bus.calls > 0 and bus.put == 0 and streams.failures > 0
    assert received() == [] and receiver.deliveries == []

    # When the bus is back
    bus.down = False
    poller.drain()

    # Then every task announced its end exactly once, and each webhook delivery followed once
    events = by_task(received())
    assert {task: [e["detail-type"] for e in found] for task, found in events.items()} == {
        **{task: ["Task Ready"] for task in ended},
        cancelled: ["Task Cancelled"],
    }
    assert bus.put == 4
    assert sorted(d.event_id for d in receiver.accepted()) == sorted(
        e[0]["detail"]["event_id"] for e in events.values()
    )

    # When the whole stream is delivered again from its start (a lost checkpoint, a replay)
    again = StreamPoller(poller.runner, streams_client(boto3.session.Session()))
    replayed = again.drain()
    poller.drain()

    # Then every record was seen again and nothing was sent twice
    assert replayed > 0 and again.failures == 0
    assert bus.put == 4 and received() == [] and len(receiver.accepted()) == 4


def test_a_batch_that_fails_part_way_is_delivered_again_and_sends_nothing_twice(client, runner, streams, bus, received):
    # Given three tasks that ended while nothing read the stream (one batch of three records)
    ended = [client.call("POST", "/v1/tasks", {"text": text}).json()["task_id"] for text in POSITIVE[:3]]
    QueuePoller(runner, boto3.client("sqs")).drain()
    assert {t["status"] for t in client.call("GET", "/v1/tasks").json()["items"]} == {"ready"}

    # When the bus refuses the second put of that batch
    bus.fail_calls = {2}
    streams.drain()

    # Then the batch failed at its second record, was delivered again from there, and the third
    # record, put on the first delivery, sent nothing the second time
    assert streams.failures == 1
    assert bus.calls == 4 and bus.put == 3
    events = by_task(received())
    assert {task: len(found) for task, found in events.items()} == dict.fromkeys(ended, 1)
