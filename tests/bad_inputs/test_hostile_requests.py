"""Hostile and broken API requests: each gets a 4xx problem+json with a stable code, never a 5xx,
and nothing of another tenant."""

from __future__ import annotations

import pytest

REQUESTS = [
    ("POST", "/v1/tasks", {"text": ["a list"]}, {}, None),
    ("POST", "/v1/tasks", {"text": None}, {}, None),
    ("POST", "/v1/tasks", {"text": "ok", "id": 12}, {}, None),
    ("POST", "/v1/tasks", {"text": "ok", "id": ""}, {}, None),
    ("POST", "/v1/tasks", {"text": "ok", "id": "x" * 300}, {}, None),
    ("POST", "/v1/tasks", {"txt": "typo"}, {}, None),
    ("POST", "/v1/tasks", {"text": "x" * 20_001}, {}, None),
    ("POST", "/v1/tasks", "[]", {}, None),
    ("POST", "/v1/tasks", "null", {}, None),
    ("POST", "/v1/tasks", "", {}, None),
    ("POST", "/v1/tasks", "text=hello", {"Content-Type": "application/x-www-form-urlencoded"}, None),
    ("POST", "/v1/tasks", "<text>hi</text>", {"Content-Type": "application/xml"}, None),
    ("POST", "/v1/tasks", '{"text": "' + "y" * 2_000_000 + '"}', {}, None),
    ("POST", "/v1/tasks", {"text": "ok"}, {"Idempotency-Key": "has spaces in it"}, None),
    ("POST", "/v1/tasks", {"text": "ok"}, {"Idempotency-Key": "k" * 300}, None),
    ("POST", "/v1/batches", {"filename": "a.csv", "format": "xls"}, {}, None),
    ("POST", "/v1/batches", {"filename": "a.csv", "text_field": ""}, {}, None),
    ("POST", "/v1/batches", {"filename": "x" * 2000}, {}, None),
    ("POST", "/v1/batches", {"filename": None}, {}, None),
    ("GET", "/v1/tasks/../../etc/passwd", None, {}, None),
    ("GET", "/v1/tasks/%00", None, {}, None),
    ("GET", "/v1/tasks/" + "f" * 28 + "/results", None, {}, {"limit": "abc"}),
    ("GET", "/v1/tasks/" + "f" * 28 + "/results", None, {}, {"limit": "100000"}),
    ("GET", "/v1/tasks", None, {}, {"cursor": "!!!"}),
    ("GET", "/v1/tasks", None, {}, {"cursor": "e30"}),
    ("GET", "/v1/tasks", None, {}, {"cursor": "x" * 5000}),
    ("GET", "/v1/tasks", None, {}, {"limit": "-1"}),
    ("GET", "/v1/tasks", None, {}, {"status": "READY"}),
    ("DELETE", "/v1/tasks/not-a-task", None, {}, None),
    ("PUT", "/v1/tasks", {"text": "ok"}, {}, None),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "query"),
    REQUESTS,
    ids=[f"{r[0]} {r[1][:40]} {str(r[2])[:30]} {r[3]} {r[4]}" for r in REQUESTS],
)
def test_a_hostile_request_gets_a_4xx_problem(client, method, path, body, headers, query):
    response = client.call(method, path, body, query=query, headers=headers)
    assert 400 <= response.status < 500, (response.status, response.body[:300])
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] and problem["status"] == response.status
    assert client.call("GET", "/v1/tasks").json()["items"] == []


def test_forged_tenant_headers_never_reach_another_tenant(client, other_client):
    theirs = other_client.call("POST", "/v1/tasks", {"text": "globex secret"}).json()["task_id"]
    for header in ("X-Tenant", "X-Tenant-Id", "X-Amz-Tenant", "Tenant"):
        forged = client.call("GET", f"/v1/tasks/{theirs}", headers={header: "globex"})
        assert forged.status == 404 and "globex secret" not in forged.body
