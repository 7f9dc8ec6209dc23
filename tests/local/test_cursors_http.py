"""Signed cursors over HTTP against `reviewpulse dev`: the local stack makes its signing secret at
start, follows its own cursors, and answers 400 invalid-cursor to every other one (issue 9.1)."""

from __future__ import annotations

import base64

import httpx
from reviewpulse_tools.local.stack import STACK_NAME

from tests.local.test_local_stack import POSITIVE, run_cli, wait_until_done

PROBLEM = "application/problem+json"
IDS = ["café-1", "評価-2", "😡-3", "Ü-4"]


def assert_invalid_cursor(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["code"] == "invalid-cursor"


def tampered(cursor: str) -> str:
    token = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    token[-1] ^= 0x01
    return base64.urlsafe_b64encode(bytes(token)).decode().rstrip("=")


def test_the_local_stack_signs_its_cursors_and_refuses_any_other(local, api, aws):
    # Given the local stack's own signing secret, made at start
    assert aws("secretsmanager").describe_secret(SecretId=f"{STACK_NAME}-cursor-signing")["ARN"]
    # And a ready batch whose results lines hold multi-byte ids, and a few tasks to list
    created = api.post("/v1/batches", json={"filename": "c.csv", "id_field": "id"}).json()
    content = "id,text\n" + "".join(f"{i},{POSITIVE}\n" for i in IDS)
    upload = created["upload"]
    sent = httpx.post(upload["url"], data=upload["fields"], files={"file": ("c.csv", content.encode())}, timeout=30)
    assert sent.status_code in (200, 204)
    task_id = created["task"]["task_id"]
    assert wait_until_done(api, task_id)["status"] == "ready"
    for _ in range(2):
        api.post("/v1/tasks", json={"text": POSITIVE})

    # When the tenant follows its results and list cursors
    items, cursor = [], None
    while True:
        page = api.get(f"/v1/tasks/{task_id}/results", params={"limit": 1, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        if not (cursor := page.json()["next_cursor"]):
            break
    results_cursor = api.get(f"/v1/tasks/{task_id}/results", params={"limit": 1}).json()["next_cursor"]
    list_cursor = api.get("/v1/tasks", params={"limit": 1}).json()["next_cursor"]
    assert api.get("/v1/tasks", params={"limit": 1, "cursor": list_cursor}).status_code == 200
    # Then every row came once, in order
    assert [item["id"] for item in items] == IDS

    # And another tenant replaying them is refused, on its own task and its own list
    created_key = run_cli(local, "keys", "create", "--tenant", "cursor-thief", "--local")
    assert created_key.returncode == 0, created_key.stderr
    with httpx.Client(
        base_url=local["api_url"], headers={"X-Api-Key": created_key.stdout.strip()}, timeout=30
    ) as thief:
        own_task = thief.post("/v1/tasks", json={"text": POSITIVE}).json()["task_id"]
        assert wait_until_done(thief, own_task)["status"] == "ready"
        assert_invalid_cursor(thief.get(f"/v1/tasks/{own_task}/results", params={"cursor": results_cursor}))
        stolen_list = thief.get("/v1/tasks", params={"cursor": list_cursor})
        assert_invalid_cursor(stolen_list)
        assert task_id not in stolen_list.text
    # And the tenant itself cannot use a cursor on another listing, changed, forged or oversized
    assert_invalid_cursor(api.get("/v1/tasks", params={"cursor": list_cursor, "status": "ready"}))
    assert_invalid_cursor(api.get("/v1/tasks", params={"cursor": results_cursor}))
    assert_invalid_cursor(api.get(f"/v1/tasks/{task_id}/results", params={"cursor": list_cursor}))
    assert_invalid_cursor(api.get(f"/v1/tasks/{task_id}/results", params={"cursor": tampered(results_cursor)}))
    assert_invalid_cursor(api.get("/v1/tasks", params={"cursor": tampered(list_cursor)}))
    for forged in ("eyJ0IjoiYWFhIiwibyI6NX0", "%%%garbage", "A" * 5000, "\u00e9\u2603"):
        assert_invalid_cursor(api.get(f"/v1/tasks/{task_id}/results", params={"cursor": forged}))
        assert_invalid_cursor(api.get("/v1/tasks", params={"cursor": forged}))
