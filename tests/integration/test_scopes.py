"""Scopes and expiry as the functions enforce them, through API Gateway proxy events with the real
REQUEST authorizer in front (the HTTP matrix of every route and scope is tests/local/test_scopes_http.py)."""

from __future__ import annotations

from datetime import timedelta

import boto3
from reviewpulse.clock import now
from reviewpulse.tenants.keys import KeyRepository
from reviewpulse.tenants.scopes import parse_scopes

from tests.conftest import Client, load_event
from tests.integration.test_api import assert_problem


def scoped_client(gateway, stack, *scopes: str, **options) -> Client:
    keys = KeyRepository(stack.ref("KeysTable"), boto3.client("dynamodb"))
    key, _ = keys.create("acme", "usage-acme", scopes=parse_scopes(scopes), **options)
    return Client(gateway, key)


def test_a_read_only_key_reads_but_neither_submits_nor_administers(gateway, stack, client, poller):
    # Given a task of the tenant and a key of the same tenant that may only read
    task_id = client.call("POST", "/v1/tasks", {"text": "Lovely shoes"}).json()["task_id"]
    poller.drain()
    reader = scoped_client(gateway, stack, "read")
    # When it reads, Then it gets the tenant's data
    assert reader.call("GET", f"/v1/tasks/{task_id}").json()["status"] == "ready"
    assert reader.call("GET", f"/v1/tasks/{task_id}/results").status == 200
    # And when it submits, cancels or registers a webhook, Then 403 insufficient-scope, and nothing changed
    body = assert_problem(reader.call("POST", "/v1/tasks", {"text": "more"}), 403, "insufficient-scope")
    assert "analyze" in body["detail"]
    assert_problem(reader.call("DELETE", f"/v1/tasks/{task_id}", query={"purge": "true"}), 403, "insufficient-scope")
    assert_problem(
        reader.call("POST", "/v1/webhooks", {"url": "https://hooks.example.com/x"}), 403, "insufficient-scope"
    )
    assert [t["task_id"] for t in client.call("GET", "/v1/tasks").json()["items"]] == [task_id]
    assert client.call("GET", "/v1/webhooks").json()["items"] == []


def test_the_scope_is_checked_before_the_body(gateway, stack):
    # Given an admin-only key, When it sends an invalid body to a route it may not call
    admin = scoped_client(gateway, stack, "admin")
    # Then the answer is the scope, not the body: a key learns nothing of a route it may not use
    assert_problem(admin.call("POST", "/v1/tasks", {"nonsense": 1}), 403, "insufficient-scope")


def test_a_key_with_several_scopes_may_do_each(gateway, stack, poller):
    worker = scoped_client(gateway, stack, "read", "analyze")
    created = worker.call("POST", "/v1/tasks", {"text": "Great"})
    assert created.status == 202
    poller.drain()
    assert worker.call("GET", f"/v1/tasks/{created.json()['task_id']}").json()["status"] == "ready"
    assert_problem(worker.call("GET", "/v1/webhooks"), 403, "insufficient-scope")


def test_a_function_refuses_a_key_past_its_expiry_even_from_the_authorizers_cache(runner):
    # Given the authorizer's answer for a key, cached by API Gateway (300 s) before the key expired
    event = load_event("list_tasks.json")
    authorizer = event["requestContext"]["authorizer"]
    authorizer.update(scopes="read", expires_at=(now() - timedelta(seconds=1)).isoformat())
    # When the function is called with that context after the expiry
    answer = runner.invoke("ListTasksFunction", event)
    # Then it answers 401 unauthorized itself
    assert answer["statusCode"] == 401 and '"unauthorized"' in answer["body"]
    # And with an expiry still ahead, the same context is served
    authorizer["expires_at"] = (now() + timedelta(hours=1)).isoformat()
    assert runner.invoke("ListTasksFunction", event)["statusCode"] == 200


def test_a_context_whose_scopes_do_not_parse_may_call_nothing(runner):
    event = load_event("list_tasks.json")
    event["requestContext"]["authorizer"]["scopes"] = "everything"
    answer = runner.invoke("ListTasksFunction", event)
    assert answer["statusCode"] == 403 and '"insufficient-scope"' in answer["body"]
