"""Erasing a tenant (DELETE /v1/tenant/data, admin scope): every table and bucket area is searched
afterwards and holds nothing of the tenant, and another tenant's data is untouched."""

from __future__ import annotations

import json
from typing import Any

import boto3
from reviewpulse.provider_batches.repository import ProviderBatchRepository
from reviewpulse.storage.layout import TENANT_AREAS
from reviewpulse.tenant_models.model import ModelSource, TenantModel
from reviewpulse.tenant_models.repository import ModelRepository
from reviewpulse.tenants.budgets import BudgetRepository

from tests.conftest import Client
from tests.integration.helpers import upload
from tests.integration.test_api import assert_problem

CSV = b"id,text\n1,Lovely shoes\n2,Awful laces\n"
KEPT_TABLES = {"KeysTable"}  # the tenant's API keys stay (documented): `keys revoke` ends them


def tenant_data(stack, tenant: str) -> dict[str, Any]:
    """Everything of `tenant` anywhere: each table's items that name it (a `tenant` value, or a key
    or value starting "<tenant>#"), and each bucket object under any top-level area's `<tenant>/`."""
    ddb, s3 = boto3.client("dynamodb"), boto3.client("s3")
    found: dict[str, Any] = {}
    tables = {stack.ref(logical): logical for logical in stack.template.of_type("AWS::DynamoDB::Table")}
    assert {"TasksTable", "WebhooksTable", "BudgetsTable", "ResultCacheTable", "ProviderBatchesTable"} <= set(
        tables.values()
    )
    for name, logical in tables.items():
        if logical in KEPT_TABLES:
            continue
        items = [
            item
            for page in ddb.get_paginator("scan").paginate(TableName=name)
            for item in page["Items"]
            if _names(item, tenant)
        ]
        if items:
            found[logical] = len(items)
    bucket = stack.ref("DataBucket")
    keys = [
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for o in page.get("Contents", [])
    ]
    # Any area, not only the known ones: a new area holding tenant folders must be erased too.
    mine = [key for key in keys if key.split("/")[1:2] == [tenant]]
    if mine:
        found["objects"] = sorted(mine)
    return found


def _names(item: dict[str, Any], tenant: str) -> bool:
    for value in item.values():
        text = value.get("S")
        if text is not None and (text == tenant or text.startswith(f"{tenant}#")):
            return True
    return False


def give_a_tenant_data(client: Client, poller, stack, s3, bucket: str, tenant: str) -> None:
    """A ready text task, a ready batch, a drop with its outgoing copies, a webhook, a budget,
    Batch API records, cache entries and a model's file."""
    client.call("POST", "/v1/tasks", {"text": "Lovely shoes"})
    batch = upload(client, "r.csv", CSV)
    s3.put_object(Bucket=bucket, Key=f"incoming/{tenant}/shop/may.csv", Body=CSV)
    assert client.call("POST", "/v1/webhooks", {"url": f"https://hooks.example.com/{tenant}"}).status == 201
    poller.drain()
    BudgetRepository(stack.ref("BudgetsTable"), boto3.client("dynamodb")).set_monthly(tenant, 5.0)
    ProviderBatchRepository(stack.ref("ProviderBatchesTable"), boto3.client("dynamodb")).open_task(
        tenant, batch, expires_at=None
    )
    for n in range(3):
        boto3.client("dynamodb").put_item(
            TableName=stack.ref("ResultCacheTable"),
            Item={"k": {"S": f"{tenant}#{n:064x}"}, "r": {"S": "{}"}, "x": {"N": "9999999999"}},
        )
    s3.put_object(Bucket=bucket, Key=f"models/{tenant}/m-1/model.json", Body=b"{}")
    models = ModelRepository(stack.ref("ModelsTable"), boto3.client("dynamodb"))
    model = TenantModel.new(tenant, ModelSource(task_id=batch, label_field="stars"), name=None, correlation_id=None)
    models.add(model)
    models.set_default(tenant, model.model_id)


def test_erasure_removes_everything_of_the_tenant_and_nothing_of_another(
    client, other_client, poller, stack, s3, bucket
):
    # Given two tenants with the same kinds of data, one task of the first still queued
    give_a_tenant_data(client, poller, stack, s3, bucket, "acme")
    give_a_tenant_data(other_client, poller, stack, s3, bucket, "globex")
    in_flight = client.call("POST", "/v1/tasks", {"text": "Still on the queue"}).json()["task_id"]
    before = tenant_data(stack, "acme")
    assert {
        "TasksTable",
        "WebhooksTable",
        "BudgetsTable",
        "ResultCacheTable",
        "ProviderBatchesTable",
        "ModelsTable",
    } <= set(before)
    assert {key.split("/")[0] for key in before["objects"]} == set(TENANT_AREAS)
    theirs = tenant_data(stack, "globex")
    their_objects = {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in theirs["objects"]}

    # When the first tenant's admin erases its data
    answer = client.call("DELETE", "/v1/tenant/data")

    # Then the receipt counts what was removed: the in-flight task was cancelled first
    assert answer.status == 200, answer.body
    receipt = answer.json()
    assert receipt["tenant"] == "acme" and receipt["tasks_cancelled"] == 1
    assert receipt["tasks"] == before["TasksTable"]
    assert receipt["objects"] == {
        area: sum(1 for key in before["objects"] if key.startswith(f"{area}/")) for area in TENANT_AREAS
    }
    assert (receipt["webhooks"], receipt["budget_records"]) == (before["WebhooksTable"], before["BudgetsTable"])
    assert receipt["cache_entries"] == before["ResultCacheTable"]
    assert receipt["provider_batch_records"] == before["ProviderBatchesTable"]
    # (the model's record; the tenant's default, which names it, is removed with it)
    assert receipt["model_records"] == before["ModelsTable"] - 1
    assert "api keys" in receipt["kept"]
    # And no table or bucket area holds anything of it, even after its queued work has run
    assert tenant_data(stack, "acme") == {}
    poller.drain()
    assert tenant_data(stack, "acme") == {}
    assert_problem(client.call("GET", f"/v1/tasks/{in_flight}"), 404, "not-found")
    assert client.call("GET", "/v1/tasks").json()["items"] == []
    # And the other tenant's data is all there, byte for byte
    assert tenant_data(stack, "globex") == theirs
    assert {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in theirs["objects"]} == their_objects
    assert len(other_client.call("GET", "/v1/webhooks").json()["items"]) == 1
    # And erasing again removes nothing, and says so
    again = client.call("DELETE", "/v1/tenant/data").json()
    assert again["tasks"] == 0 and sum(again["objects"].values()) == 0


def test_erasure_needs_the_admin_scope(gateway, stack, client):
    from reviewpulse.tenants.keys import KeyRepository
    from reviewpulse.tenants.scopes import parse_scopes

    client.call("POST", "/v1/tasks", {"text": "Lovely shoes"})
    keys = KeyRepository(stack.ref("KeysTable"), boto3.client("dynamodb"))
    for scopes in (["read"], ["analyze"], ["read", "analyze"]):
        key, _ = keys.create("acme", "usage-acme", scopes=parse_scopes(scopes))
        assert_problem(Client(gateway, key).call("DELETE", "/v1/tenant/data"), 403, "insufficient-scope")
    assert len(client.call("GET", "/v1/tasks").json()["items"]) == 1
    assert json.loads(client.call("DELETE", "/v1/tenant/data").body)["tasks"] == 1
