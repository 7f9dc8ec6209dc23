"""Webhooks end to end: registered through the API, fed by the event bus's rule, delivered signed
to a real HTTP receiver, retried on 500, at least once with one event id, parked after 24 hours."""

from __future__ import annotations

import json
import time

import boto3
import pytest
import requests
from reviewpulse.webhooks.signing import SIGNATURE_HEADER, signature

from tests.conftest import load_event
from tests.integration.helpers import POSITIVE


def register(client, receiver) -> dict:
    created = client.call("POST", "/v1/webhooks", {"url": receiver.url})
    assert created.status == 201, created.body
    receiver.secret = created.json()["secret"]
    return created.json()


def test_a_task_event_reaches_the_webhook_signed_and_retried_on_500(client, poller, receiver):
    # Given a webhook whose receiver answers 500 twice before it accepts
    webhook = register(client, receiver)
    receiver.fail_next(2)

    # When a task ends
    task_id = client.call("POST", "/v1/tasks", {"text": POSITIVE[0]}).json()["task_id"]
    poller.drain()

    # Then the receiver saw three signed deliveries of one event, the third accepted
    assert [d.status for d in receiver.deliveries] == [500, 500, 204]
    assert all(d.valid for d in receiver.deliveries)
    assert len({d.event_id for d in receiver.deliveries}) == 1
    delivered = receiver.deliveries[-1]
    assert delivered.header_event_id == delivered.event_id
    assert delivered.body["detail-type"] == "Task Ready" and delivered.body["source"] == "reviewpulse"
    assert delivered.body["detail"]["task_id"] == task_id and delivered.body["detail"]["tenant"] == "acme"
    assert delivered.body["detail"]["links"]["results"] == f"/v1/tasks/{task_id}/results"
    # And the secret was shown once: the listing never shows it
    listed = client.call("GET", "/v1/webhooks").json()["items"]
    assert listed == [{k: webhook[k] for k in ("webhook_id", "url", "created_at")}]
    assert webhook["secret"] not in json.dumps(listed)


def test_a_redelivered_event_carries_the_same_id(client, poller, receiver, stack):
    # Given a webhook that has received a task's event
    register(client, receiver)
    client.call("POST", "/v1/tasks", {"text": POSITIVE[1]})
    poller.drain()
    (first,) = receiver.accepted()

    # When the same event comes again (EventBridge and SQS deliver at least once)
    boto3.client("events").put_events(
        Entries=[
            {
                "EventBusName": stack.ref("TaskEventBus"),
                "Source": "reviewpulse",
                "DetailType": first.body["detail-type"],
                "Detail": json.dumps(first.body["detail"]),
            }
        ]
    )
    poller.drain()

    # Then the receiver got it twice, with one id to de-duplicate by
    assert [d.event_id for d in receiver.accepted()] == [first.event_id, first.event_id]


def test_the_receiver_refuses_a_forged_signature(receiver):
    # Given a receiver that knows its webhook's secret
    receiver.secret = "whsec_the-real-one"
    body = json.dumps({"id": "evt_forged", "detail": {}}).encode()
    now = int(time.time())
    # When a request is signed with another secret, or carries no signature, or a stale one
    for header in (signature("whsec_guessed", now, body), "", signature("whsec_the-real-one", now - 3600, body)):
        response = requests.post(receiver.url, data=body, headers={SIGNATURE_HEADER: header}, timeout=5)
        # Then it is refused
        assert response.status_code == 401
    # And the real secret is accepted
    response = requests.post(
        receiver.url, data=body, headers={SIGNATURE_HEADER: signature("whsec_the-real-one", now, body)}, timeout=5
    )
    assert response.status_code == 204


def test_a_redirect_is_not_followed(client, poller, receiver):
    # Given a receiver that answers every delivery with a redirect
    register(client, receiver)
    receiver.redirect_all()
    # When a task ends and the delivery is tried (and retried) a few times
    client.call("POST", "/v1/tasks", {"text": POSITIVE[2]})
    trigger = next(t for t in poller.triggers if t.function == "DeliverWebhooksFunction")
    ingest = [t for t in poller.triggers if t.function != "DeliverWebhooksFunction"]
    for _ in range(20):
        if not sum(poller.poll_once(t) for t in ingest) + sum(s.poll_all() for s in poller.also):
            break
    for _ in range(4):
        poller.poll_once(trigger)
    # Then every request went to the registered path: the redirect was never followed
    assert receiver.deliveries and {d.path for d in receiver.deliveries} == {"/hooks"}
    assert {d.status for d in receiver.deliveries} == {302}


def test_a_delivery_whose_retries_ran_out_is_parked(client, receiver, runner, stack):
    # Given a delivery first tried 25 hours ago, whose receiver still fails
    webhook = register(client, receiver)
    receiver.fail_next(1)
    job = {
        "tenant": "acme",
        "webhook_id": webhook["webhook_id"],
        "event_id": "evt_0123456789abcdef0123456789abcdef",
        "detail_type": "Task Ready",
        "detail": {"event_id": "evt_0123456789abcdef0123456789abcdef", "tenant": "acme", "task_id": "t"},
        "attempt": 12,
        "first_attempt_at": time.time() - 25 * 3600,
    }
    event = load_event("deliver_webhooks.json")
    event["Records"][0]["body"] = json.dumps(job)

    # When it is tried once more
    assert runner.invoke("DeliverWebhooksFunction", event) == {"batchItemFailures": []}

    # Then it is parked on the dead-letter queue (which has an alarm), with why, and not retried
    sqs = boto3.client("sqs")
    parked = sqs.receive_message(QueueUrl=stack.ref("WebhookDeadLetterQueue")).get("Messages", [])
    assert [json.loads(m["Body"])["last_error"] for m in parked] == ["HTTP 500"]
    assert sqs.receive_message(QueueUrl=stack.ref("WebhookQueue")).get("Messages", []) == []


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/x",  # not https
        "https://10.1.2.3/x",  # private
        "https://169.254.169.254/latest/meta-data",  # metadata
        "https://[::1]/x",  # loopback, IPv6
        "https://[fd00:ec2::254]/x",  # metadata, IPv6
        "https://2130706433/x",  # 127.0.0.1, decimal
        "https://0x7f000001/x",  # 127.0.0.1, hex
        "https://user:pass@hooks.example.com/x",  # credentials
        "ftp://hooks.example.com/x",
        "not a url",
    ],
)
def test_urls_that_are_not_public_https_are_refused_at_registration(client, url):
    response = client.call("POST", "/v1/webhooks", {"url": url})
    assert response.status == 422, response.body
    assert response.json()["code"] == "validation-error"
    assert client.call("GET", "/v1/webhooks").json()["items"] == []


def test_webhooks_are_per_tenant_and_removed_by_their_owner(client, other_client, receiver):
    webhook = register(client, receiver)
    path = f"/v1/webhooks/{webhook['webhook_id']}"
    # Another tenant neither sees nor removes it
    assert other_client.call("GET", "/v1/webhooks").json()["items"] == []
    assert other_client.call("DELETE", path).status == 404
    # Its owner removes it, once
    assert client.call("DELETE", path).status == 204
    assert client.call("DELETE", path).status == 404
    assert client.call("GET", "/v1/webhooks").json()["items"] == []
