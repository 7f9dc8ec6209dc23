"""Rotating a webhook's signing secret (POST /v1/webhooks/{webhook_id}/rotate-secret) without
downtime: during the overlap every delivery carries a v1 signature for the new secret and one for
the old, so a receiver verifies with either; after it, only the new one signs. Deliveries queued
before the rotation are signed when they are sent, so they verify too."""

from __future__ import annotations

import time
from datetime import datetime

import boto3
import pytest
from reviewpulse.usecases.deliver_webhooks import Deliveries, deliver
from reviewpulse.webhooks import sender
from reviewpulse.webhooks.addresses import parse_allowed
from reviewpulse.webhooks.queue import DeliveryJob, DeliveryQueue
from reviewpulse.webhooks.signing import SIGNATURE_HEADER, verify
from reviewpulse.webhooks.store import SecretBox, WebhookRepository

from tests.conftest import Client
from tests.integration.helpers import POSITIVE
from tests.integration.test_api import assert_problem
from tests.integration.test_webhooks import register


def rotate(client, webhook_id: str, body: dict | None = None):
    return client.call("POST", f"/v1/webhooks/{webhook_id}/rotate-secret", body)


def verifies(secret: str, delivery) -> bool:
    return verify(secret, delivery.signature, delivery.raw, int(time.time()))


def queue_of(stack) -> DeliveryQueue:
    return DeliveryQueue(stack.ref("WebhookQueue"), stack.ref("WebhookDeadLetterQueue"), boto3.client("sqs"))


def queued_job(webhook_id: str) -> DeliveryJob:
    event_id = "evt_" + "a" * 32
    return DeliveryJob(
        tenant="acme",
        webhook_id=webhook_id,
        event_id=event_id,
        detail_type="Task Ready",
        detail={"event_id": event_id, "tenant": "acme", "task_id": "t"},
        first_attempt_at=time.time(),
    )


def test_during_the_overlap_deliveries_verify_with_the_old_and_the_new_secret(client, poller, receiver, stack):
    # Given a webhook, and a delivery of it already queued
    webhook = register(client, receiver)
    old = webhook["secret"]
    queue_of(stack).send([queued_job(webhook["webhook_id"])], now=time.time())

    # When its secret is rotated with the default overlap (and a task ends after that)
    before = time.time()
    rotated = rotate(client, webhook["webhook_id"])
    after = time.time()
    client.call("POST", "/v1/tasks", {"text": POSITIVE[0]})
    poller.drain()

    # Then the answer shows a new secret once, and when the old one stops signing (a day later)
    assert rotated.status == 200, rotated.body
    new = rotated.json()["secret"]
    assert new != old and new.startswith("whsec_")
    assert rotated.json()["webhook_id"] == webhook["webhook_id"] and rotated.json()["url"] == webhook["url"]
    until = datetime.fromisoformat(rotated.json()["previous_secret_valid_until"]).timestamp()
    assert int(before) + 24 * 3600 <= until <= after + 24 * 3600
    assert new not in str(client.call("GET", "/v1/webhooks").json())
    # And both deliveries (the one queued before the rotation too) verify with the old secret
    # the receiver still holds, AND with the new one: two v1 signatures, the new first
    assert len(receiver.accepted()) == 2
    for delivery in receiver.deliveries:
        assert verifies(old, delivery) and verifies(new, delivery)
        assert delivery.signature.count("v1=") == 2
    assert not verifies("whsec_someone-else", receiver.deliveries[0])


def test_after_the_overlap_only_the_new_secret_signs(client, receiver, stack):
    # Given a webhook whose secret was rotated with an hour's overlap
    webhook = register(client, receiver)
    old = webhook["secret"]
    rotated = rotate(client, webhook["webhook_id"], {"overlap_seconds": 3600})
    new = rotated.json()["secret"]
    until = datetime.fromisoformat(rotated.json()["previous_secret_valid_until"]).timestamp()
    sent: list[tuple[int, dict[str, str], bytes]] = []

    def capture(target, address, body, headers, timeout, context=None):
        sent.append((at, headers, body))
        return sender.Sent(204, "")

    # When a delivery is sent just before the overlap ends, and one just after it
    for at in (until - 1, until):
        deliveries = Deliveries(
            webhooks=WebhookRepository(stack.ref("WebhooksTable"), boto3.client("dynamodb")),
            secrets=SecretBox(stack.ref("WebhookSecretsKey"), boto3.client("kms")),
            queue=queue_of(stack),
            allowed=parse_allowed("127.0.0.1/32"),
            post=capture,
        )
        deliver(queued_job(webhook["webhook_id"]), deliveries, now=at)

    # Then the first verifies with both secrets, the second only with the new one
    (inside, inside_headers, inside_body), (outside, outside_headers, outside_body) = sent
    assert verify(old, inside_headers[SIGNATURE_HEADER], inside_body, int(inside))
    assert verify(new, inside_headers[SIGNATURE_HEADER], inside_body, int(inside))
    assert verify(new, outside_headers[SIGNATURE_HEADER], outside_body, int(outside))
    assert not verify(old, outside_headers[SIGNATURE_HEADER], outside_body, int(outside))
    assert outside_headers[SIGNATURE_HEADER].count("v1=") == 1


def test_an_overlap_of_zero_ends_the_old_secret_at_once(client, poller, receiver):
    # Given a webhook whose receiver already holds the new secret of a rotation without overlap
    webhook = register(client, receiver)
    old = webhook["secret"]
    rotated = rotate(client, webhook["webhook_id"], {"overlap_seconds": 0})
    assert rotated.status == 200, rotated.body
    receiver.secret = rotated.json()["secret"]

    # When a task ends
    client.call("POST", "/v1/tasks", {"text": POSITIVE[1]})
    poller.drain()

    # Then its delivery is accepted with the new secret and does not verify with the old one
    (delivered,) = receiver.accepted()
    assert not verifies(old, delivered)
    assert delivered.signature.count("v1=") == 1


def test_a_second_rotation_keeps_the_first_ones_secret_for_its_overlap(client, poller, receiver):
    # Given two rotations in a row
    webhook = register(client, receiver)
    first = rotate(client, webhook["webhook_id"]).json()["secret"]
    second = rotate(client, webhook["webhook_id"]).json()["secret"]
    receiver.secret = first

    # When a task ends
    client.call("POST", "/v1/tasks", {"text": POSITIVE[2]})
    poller.drain()

    # Then the delivery verifies with the latest and the one before it, no longer with the original
    (delivered,) = receiver.accepted()
    assert verifies(second, delivered)
    assert not verifies(webhook["secret"], delivered)


def test_another_tenants_or_a_missing_webhook_is_not_found(client, other_client, receiver, poller):
    webhook = register(client, receiver)
    for path_id in (webhook["webhook_id"], "wh_0000000000000000", "nonsense"):
        assert_problem(rotate(other_client, path_id), 404, "not-found")
    assert_problem(rotate(client, "wh_0000000000000000"), 404, "not-found")
    # And the owner's webhook still signs with its only secret
    client.call("POST", "/v1/tasks", {"text": POSITIVE[0]})
    poller.drain()
    (delivered,) = receiver.accepted()
    assert delivered.signature.count("v1=") == 1


@pytest.mark.parametrize("overlap", [-1, 7 * 24 * 3600 + 1, "a day"])
def test_an_overlap_out_of_bounds_is_refused(client, receiver, overlap):
    webhook = register(client, receiver)
    assert_problem(rotate(client, webhook["webhook_id"], {"overlap_seconds": overlap}), 422, "validation-error")


def test_rotation_needs_the_admin_scope(gateway, stack, client, receiver, poller):
    from reviewpulse.tenants.keys import KeyRepository
    from reviewpulse.tenants.scopes import parse_scopes

    webhook = register(client, receiver)
    keys = KeyRepository(stack.ref("KeysTable"), boto3.client("dynamodb"))
    for scopes in (["read"], ["analyze"], ["read", "analyze"]):
        key, _ = keys.create("acme", "usage-acme", scopes=parse_scopes(scopes))
        assert_problem(rotate(Client(gateway, key), webhook["webhook_id"]), 403, "insufficient-scope")
    # And the secret did not change: deliveries carry one signature, with the original secret
    client.call("POST", "/v1/tasks", {"text": POSITIVE[0]})
    poller.drain()
    (delivered,) = receiver.accepted()
    assert delivered.signature.count("v1=") == 1


def test_the_cli_rotates_and_prints_the_new_secret_once(runner, api_key, client, receiver, poller, capsys):
    from reviewpulse_cli.main import main
    from reviewpulse_tools.local.apigateway import ApiGateway, serve
    from reviewpulse_tools.local.stack import free_port

    # Given a webhook, and the API over HTTP for the CLI
    webhook = register(client, receiver)
    server, thread = serve(ApiGateway(runner), "127.0.0.1", free_port())
    endpoint = f"http://127.0.0.1:{server.server_port}"
    try:
        capsys.readouterr()
        # When the CLI rotates its secret with a two-hour overlap
        before = time.time()
        code = main(
            [
                "webhooks",
                "rotate",
                webhook["webhook_id"],
                "--overlap",
                "2h",
                "--endpoint",
                endpoint,
                "--api-key",
                api_key,
            ]
        )
        printed = capsys.readouterr()
        # And a bad overlap is refused before anything is sent
        with pytest.raises(SystemExit):
            main(["webhooks", "rotate", webhook["webhook_id"], "--overlap", "soon", "--endpoint", endpoint])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    # Then the new secret alone is on standard output, and the old one signs for two hours more
    assert code == 0, printed.err
    new = printed.out.strip()
    assert new.startswith("whsec_") and new != webhook["secret"] and new not in printed.err
    until = printed.err.rsplit("until ", 1)[1].strip()
    assert int(before) + 2 * 3600 <= datetime.fromisoformat(until).timestamp() <= time.time() + 2 * 3600
    # And deliveries verify with the new secret (and the old one still, during the overlap)
    client.call("POST", "/v1/tasks", {"text": POSITIVE[0]})
    poller.drain()
    (delivered,) = receiver.accepted()
    assert verifies(new, delivered) and verifies(webhook["secret"], delivered)
