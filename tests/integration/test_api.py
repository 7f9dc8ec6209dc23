"""Every endpoint through API Gateway REST proxy events, with the REQUEST authorizer in front."""

from __future__ import annotations

import base64
import json

import boto3
import pytest
from reviewpulse.tenants.keys import KeyRepository

PROBLEM = "application/problem+json"


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status == status, response.body
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["code"] == code and body["status"] == status and body["title"] and body["detail"]
    return body


def test_text_task_is_analysed_and_reported(client, poller):
    # Given a text submitted for analysis
    created = client.call("POST", "/v1/tasks", {"text": "Absolutely love it, works perfectly!", "id": "review-7"})
    assert created.status == 202
    task = created.json()
    assert task["type"] == "text" and task["status"] == "queued"
    assert task["progress"] == {"total": 1, "processed": 0, "failed": 0}

    # When the worker drains the work queue
    poller.drain()

    # Then the task is ready, its summary counts the one positive item, and its result carries the client id
    done = client.call("GET", f"/v1/tasks/{task['task_id']}").json()
    assert done["status"] == "ready"
    assert done["progress"] == {"total": 1, "processed": 1, "failed": 0}
    assert done["summary"]["counts"]["positive"] == 1
    assert done["summary"]["percentages"]["positive"] == 100.0
    page = client.call("GET", f"/v1/tasks/{task['task_id']}/results").json()
    (item,) = page["items"]
    assert item["id"] == "review-7" and item["label"] == "positive" and item["engine"] == "lexicon"
    assert 0 < item["score"] <= 1 and 0 <= item["confidence"] <= 1
    assert page["next_cursor"] is None
    assert page["files"]["jsonl"].startswith("https://") and page["files"]["csv"].startswith("https://")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"text": ""}, 422, "validation-error"),
        ({"text": "   "}, 422, "validation-error"),
        ({"text": 42}, 422, "validation-error"),
        ({}, 422, "validation-error"),
        ({"text": "fine", "tenant": "globex"}, 422, "validation-error"),
        ({"text": "x" * 5001}, 413, "too-large"),
        ("{not json", 422, "validation-error"),
    ],
)
def test_bad_text_requests_get_problem_responses(client, body, status, code):
    # Given / When a malformed request
    response = client.call("POST", "/v1/tasks", body)
    # Then a problem+json with a stable code, and no task was created
    assert_problem(response, status, code)
    assert client.call("GET", "/v1/tasks").json()["items"] == []


def test_validation_problem_never_echoes_the_input(client):
    secret_text = "my card number is 4111 1111 1111 1111"
    response = client.call("POST", "/v1/tasks", {"text": secret_text, "unexpected": secret_text})
    assert_problem(response, 422, "validation-error")
    assert "4111" not in response.body


def test_batch_creation_returns_a_tenant_scoped_presigned_post(client):
    # Given a batch request for a CSV file with a path in its name
    response = client.call("POST", "/v1/batches", {"filename": "../../exports/May reviews.csv", "text_field": "body"})
    # Then a task waiting for its upload and a POST policy limited to this tenant's key and size
    assert response.status == 201
    task, upload = response.json()["task"], response.json()["upload"]
    assert task["status"] == "accepted" and task["type"] == "batch" and task["format"] == "csv"
    assert upload["fields"]["key"] == f"uploads/acme/{task['task_id']}/May_reviews.csv"
    assert upload["max_bytes"] == 104857600
    policy = json.loads(base64.b64decode(upload["fields"]["policy"]))
    assert ["content-length-range", 1, upload["max_bytes"]] in policy["conditions"]
    assert {"key": upload["fields"]["key"]} in policy["conditions"]
    assert policy["expiration"].startswith(upload["expires_at"][:16])
    # And it is signed with SigV4 (AWS4-HMAC-SHA256, scoped to a day, a region and S3), not SigV2
    fields = upload["fields"]
    assert fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256" and len(fields["x-amz-signature"]) == 64
    assert fields["x-amz-credential"].endswith("/us-east-1/s3/aws4_request")
    assert {"x-amz-algorithm": "AWS4-HMAC-SHA256"} in policy["conditions"]
    assert not {"AWSAccessKeyId", "signature"} & set(fields)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"filename": "reviews.xls"}, 415, "unsupported-format"),
        ({"filename": "reviews"}, 415, "unsupported-format"),
        ({"filename": "reviews.csv", "format": "xml"}, 415, "unsupported-format"),
        ({"filename": "reviews.csv", "format": 7}, 422, "validation-error"),
        ({"filename": ""}, 422, "validation-error"),
    ],
)
def test_bad_batch_requests_get_problem_responses(client, body, status, code):
    assert_problem(client.call("POST", "/v1/batches", body), status, code)


def test_declared_format_wins_over_the_extension(client):
    response = client.call("POST", "/v1/batches", {"filename": "export.dat", "format": "jsonl"})
    assert response.status == 201 and response.json()["task"]["format"] == "jsonl"


def test_missing_and_foreign_tasks_answer_the_same_404(client, other_client):
    # Given a task that belongs to another tenant
    foreign = other_client.call("POST", "/v1/tasks", {"text": "Nice."}).json()["task_id"]
    missing = "0" * 28
    # When the caller asks for it, for a missing id, and for a malformed id
    answers = [client.call("GET", f"/v1/tasks/{task_id}") for task_id in (foreign, missing, "not-a-task-id")]
    answers += [client.call("GET", f"/v1/tasks/{task_id}/results") for task_id in (foreign, missing)]
    # Then each is the same not-found problem
    details = {assert_problem(answer, 404, "not-found")["detail"] for answer in answers}
    assert details == {"no such task"}
    # And the owner still sees it
    assert other_client.call("GET", f"/v1/tasks/{foreign}").status == 200


def test_results_before_ready_are_a_conflict(client):
    task_id = client.call("POST", "/v1/tasks", {"text": "Nice."}).json()["task_id"]
    assert_problem(client.call("GET", f"/v1/tasks/{task_id}/results"), 409, "task-not-ready")


def test_listing_is_newest_first_paginated_and_filterable(client, other_client, poller):
    # Given three text tasks of this tenant (one analysed) and one of another tenant
    ids = [client.call("POST", "/v1/tasks", {"text": f"Text number {i}"}).json()["task_id"] for i in range(3)]
    other_client.call("POST", "/v1/tasks", {"text": "Not yours"})
    poller.drain()
    batch_id = client.call("POST", "/v1/batches", {"filename": "later.csv"}).json()["task"]["task_id"]

    # When the tenant pages through its tasks two at a time
    first = client.call("GET", "/v1/tasks", query={"limit": "2"}).json()
    second = client.call("GET", "/v1/tasks", query={"limit": "2", "cursor": first["next_cursor"]}).json()

    # Then it sees exactly its own four tasks, newest first
    seen = [t["task_id"] for t in first["items"] + second["items"]]
    assert seen == [batch_id] + ids[::-1]
    # And filtering by status finds the waiting batch only
    accepted = client.call("GET", "/v1/tasks", query={"status": "accepted"}).json()
    assert [t["task_id"] for t in accepted["items"]] == [batch_id]
    ready = client.call("GET", "/v1/tasks", query={"status": "ready"}).json()
    assert sorted(t["task_id"] for t in ready["items"]) == sorted(ids)


def test_cursors_cannot_cross_tenants_or_be_forged(client, other_client):
    for i in range(3):
        other_client.call("POST", "/v1/tasks", {"text": f"Globex text {i}"})
    foreign_cursor = other_client.call("GET", "/v1/tasks", query={"limit": "1"}).json()["next_cursor"]
    assert foreign_cursor
    assert_problem(client.call("GET", "/v1/tasks", query={"cursor": foreign_cursor}), 400, "invalid-cursor")
    assert_problem(client.call("GET", "/v1/tasks", query={"cursor": "%%%garbage"}), 400, "invalid-cursor")
    assert_problem(client.call("GET", "/v1/tasks", query={"status": "finished"}), 422, "validation-error")
    assert_problem(client.call("GET", "/v1/tasks", query={"limit": "0"}), 422, "validation-error")


def test_result_pages_walk_every_item_once(client, poller):
    task_id = client.call("POST", "/v1/tasks", {"text": "Good value."}).json()["task_id"]
    poller.drain()
    page = client.call("GET", f"/v1/tasks/{task_id}/results", query={"limit": "1"}).json()
    assert len(page["items"]) == 1 and page["next_cursor"] is None
    assert_problem(
        client.call("GET", f"/v1/tasks/{task_id}/results", query={"cursor": "bm9wZQ"}), 400, "invalid-cursor"
    )


def test_requests_without_a_valid_key_are_refused(gateway, stack, api_key):
    from tests.conftest import Client

    assert_problem(Client(gateway, None).call("GET", "/v1/tasks"), 401, "unauthorized")
    assert_problem(Client(gateway, "rp_not-a-real-key").call("GET", "/v1/tasks"), 401, "unauthorized")
    # A revoked key stops working (once the authorizer's cache for it expires)
    keys = KeyRepository(stack.ref("KeysTable"), boto3.client("dynamodb"))
    record = keys.find(api_key)
    assert keys.revoke("acme", record.key_id) is not None
    fresh_gateway = type(gateway)(gateway.runner)
    assert_problem(Client(fresh_gateway, api_key).call("GET", "/v1/tasks"), 401, "unauthorized")


def test_forged_tenant_headers_change_nothing(client, other_client):
    other_client.call("POST", "/v1/tasks", {"text": "Globex only"})
    forged = client.call("GET", "/v1/tasks", headers={"X-Tenant": "globex", "X-Tenant-Id": "globex"})
    assert forged.status == 200 and forged.json()["items"] == []


def test_health_needs_no_key(gateway):
    from tests.conftest import Client

    response = Client(gateway, None).call("GET", "/health")
    assert response.status == 200
    assert response.json() == {"status": "ok", "checks": {"tasks_table": "ok"}}


def test_unknown_routes_and_methods_are_not_found(client):
    # REST APIs answer both as MISSING_AUTHENTICATION_TOKEN, mapped to 404 by the template
    assert_problem(client.call("DELETE", "/v1/tasks"), 404, "not-found")
    assert_problem(client.call("GET", "/v2/anything"), 404, "not-found")


def test_a_key_outside_the_usage_plan_is_forbidden(gateway, stack):
    # Given a key stored without a usage-plan key (ApiKeyRequired cannot be met)
    from tests.conftest import Client

    key, _ = KeyRepository(stack.ref("KeysTable"), boto3.client("dynamodb")).create("acme")
    assert_problem(Client(gateway, key).call("GET", "/v1/tasks"), 403, "forbidden")


def test_a_listing_cursor_is_refused_with_other_filters(client, poller):
    # Given a listing cursor made for all tasks
    for i in range(3):
        client.call("POST", "/v1/tasks", {"text": f"Lovely thing {i}"})
    poller.drain()
    cursor = client.call("GET", "/v1/tasks", query={"limit": "1"}).json()["next_cursor"]
    # When it is reused with a status filter, it is refused rather than misread
    assert_problem(client.call("GET", "/v1/tasks", query={"cursor": cursor, "status": "ready"}), 400, "invalid-cursor")
    # (signed offsets that land mid-line: tests/integration/test_cursors.py)


def test_a_retried_create_with_the_same_idempotency_key_returns_the_first_task(client, other_client):
    # Given a create sent twice with the same Idempotency-Key and body (a client retry)
    headers = {"Idempotency-Key": "order-4711"}
    first = client.call("POST", "/v1/tasks", {"text": "Nice shoes"}, headers=headers)
    again = client.call("POST", "/v1/tasks", {"text": "Nice shoes"}, headers=headers)
    # Then both answers are the same task, and only one task exists
    assert first.status == again.status == 202
    assert first.json()["task_id"] == again.json()["task_id"]
    assert len(client.call("GET", "/v1/tasks").json()["items"]) == 1
    # And another tenant's same key is its own
    theirs = other_client.call("POST", "/v1/tasks", {"text": "Nice shoes"}, headers=headers)
    assert theirs.status == 202 and theirs.json()["task_id"] != first.json()["task_id"]


def test_an_idempotency_key_reused_with_another_body_is_a_conflict(client):
    headers = {"Idempotency-Key": "order-4712"}
    assert client.call("POST", "/v1/tasks", {"text": "Nice shoes"}, headers=headers).status == 202
    assert_problem(
        client.call("POST", "/v1/tasks", {"text": "Bad shoes"}, headers=headers), 409, "idempotency-key-reused"
    )
    assert len(client.call("GET", "/v1/tasks").json()["items"]) == 1


def test_a_retried_batch_gets_the_same_upload(client):
    headers = {"Idempotency-Key": "batch-2026-05"}
    first = client.call("POST", "/v1/batches", {"filename": "may.csv"}, headers=headers).json()
    again = client.call("POST", "/v1/batches", {"filename": "may.csv"}, headers=headers).json()
    assert first["task"]["task_id"] == again["task"]["task_id"]
    assert first["upload"]["fields"]["key"] == again["upload"]["fields"]["key"]


@pytest.mark.parametrize("key", ["has space", "x" * 129, "ünïcode", "semi;colon"])
def test_bad_idempotency_keys_are_refused(client, key):
    response = client.call("POST", "/v1/tasks", {"text": "Nice"}, headers={"Idempotency-Key": key})
    assert response.status in (400, 422)
    assert response.json()["code"] in ("invalid-idempotency-key", "validation-error")
    assert client.call("GET", "/v1/tasks").json()["items"] == []


def test_cancelling_a_running_task_skips_its_remaining_chunks(client, poller, monkeypatch):
    # Given a batch that has been split into chunks but not analysed
    from tests.integration.helpers import upload

    monkeypatch.setenv("CHUNK_MAX_ITEMS", "2")
    task_id = upload(client, "r.txt", b"Great\nAwful\nFine\nLovely\n")
    poller.poll_once(next(t for t in poller.triggers if t.function == "SplitFunction"))
    poller.poll_once(next(t for t in poller.triggers if t.function == "SplitFunction"))
    # When its owner cancels it, and the workers run
    cancelled = client.call("DELETE", f"/v1/tasks/{task_id}")
    poller.drain()
    # Then it stays cancelled with nothing analysed, and cancelling again changes nothing
    assert cancelled.status == 200 and cancelled.json()["status"] == "cancelled"
    task = client.call("GET", f"/v1/tasks/{task_id}").json()
    assert task["status"] == "cancelled" and task["progress"]["processed"] + task["progress"]["failed"] == 0
    assert client.call("DELETE", f"/v1/tasks/{task_id}").json()["status"] == "cancelled"
    assert_problem(client.call("GET", f"/v1/tasks/{task_id}/results"), 409, "task-not-ready")


def test_a_finished_task_cannot_be_cancelled_but_can_be_purged(client, other_client, poller, s3, bucket):
    task_id = client.call("POST", "/v1/tasks", {"text": "Lovely"}).json()["task_id"]
    poller.drain()
    assert_problem(client.call("DELETE", f"/v1/tasks/{task_id}"), 409, "task-finished")
    # Another tenant can neither cancel nor purge it
    assert_problem(other_client.call("DELETE", f"/v1/tasks/{task_id}", query={"purge": "true"}), 404, "not-found")
    # Its owner purges it: the record and every stored object are gone
    assert s3.list_objects_v2(Bucket=bucket, Prefix=f"results/acme/{task_id}/").get("KeyCount", 0) > 0
    purged = client.call("DELETE", f"/v1/tasks/{task_id}", query={"purge": "true"})
    assert purged.status == 204
    assert_problem(client.call("GET", f"/v1/tasks/{task_id}"), 404, "not-found")
    assert s3.list_objects_v2(Bucket=bucket, Prefix=f"results/acme/{task_id}/").get("KeyCount", 0) == 0
