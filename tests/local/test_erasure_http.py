"""Erasure on the running local stack: DELETE /v1/tenant/data over HTTP with an admin key, and the
operator's `reviewpulse tenants erase --local`; each leaves nothing of its tenant in the bucket."""

from __future__ import annotations

import json

import httpx
from reviewpulse.storage.layout import TENANT_AREAS
from reviewpulse_tools.local.stack import STACK_NAME

from tests.local.test_local_stack import POSITIVE, run_cli, wait_until_done

BUCKET = f"{STACK_NAME}-data-123456789012-us-east-1"


def tenant_objects(aws, tenant: str) -> list[str]:
    s3 = aws("s3")
    return [
        o["Key"]
        for area in TENANT_AREAS
        for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{area}/{tenant}/").get("Contents", [])
    ]


def tenant_with_data(local, tenant: str) -> httpx.Client:
    made = run_cli(local, "keys", "create", "--tenant", tenant, "--local", "--name", "erasure test")
    assert made.returncode == 0, made.stderr
    client = httpx.Client(base_url=local["api_url"], headers={"X-Api-Key": made.stdout.strip()}, timeout=60)
    task_id = client.post("/v1/tasks", json={"text": POSITIVE}).json()["task_id"]
    assert wait_until_done(client, task_id)["status"] == "ready"
    assert client.post("/v1/webhooks", json={"url": f"https://hooks.example.com/{tenant}"}).status_code == 201
    return client


def test_an_admin_erases_its_tenant_over_http_and_the_operator_erases_another(local, aws):
    # Given two tenants with ready tasks, results and webhooks
    first = tenant_with_data(local, "erase-http")
    second = tenant_with_data(local, "erase-cli")
    assert tenant_objects(aws, "erase-http") and tenant_objects(aws, "erase-cli")

    # When the first tenant's (full-scope) key erases its data over HTTP
    answer = first.delete("/v1/tenant/data")
    # Then a receipt, and nothing of it left in any bucket area; the other tenant untouched
    assert answer.status_code == 200, answer.text
    assert answer.json()["tasks"] == 1 and answer.json()["webhooks"] == 1
    assert tenant_objects(aws, "erase-http") == []
    assert first.get("/v1/tasks").json()["items"] == []
    assert len(second.get("/v1/tasks").json()["items"]) == 1

    # When the operator erases the second tenant with the CLI (refused without --yes)
    refused = run_cli(local, "tenants", "erase", "--tenant", "erase-cli", "--local")
    assert refused.returncode == 2 and "--yes" in refused.stderr
    erased = run_cli(local, "tenants", "erase", "--tenant", "erase-cli", "--local", "--yes")
    # Then it prints the receipt, and the tenant's data is gone
    assert erased.returncode == 0, erased.stderr
    receipt = json.loads(erased.stdout)
    assert receipt["tenant"] == "erase-cli" and receipt["tasks"] == 1 and receipt["webhooks"] == 1
    assert sum(receipt["objects"].values()) > 0
    assert tenant_objects(aws, "erase-cli") == []
    assert second.get("/v1/tasks").json()["items"] == [] and second.get("/v1/webhooks").json()["items"] == []
    first.close()
    second.close()
