"""Every AWS call a function makes is allowed by that function's own policy in template.yaml.

moto does not enforce IAM, so this test does: it records each call the handlers make through the
domain's boto3 clients while the whole pipeline runs (API, split, analyze, the LLM analyzer with
its result cache, finalize with an LLM report, dead letters), and checks the action and the resource (table or index, queue, bucket key prefix)
against the statements written for that function.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from reviewpulse.aws import add_api_call_listener, remove_api_call_listener, reset_clients
from reviewpulse.settings import get_settings
from reviewpulse.tenants.budgets import BudgetRepository
from reviewpulse_tools.doubles.fake_openai import FakeOpenAI
from reviewpulse_tools.doubles.webhook_receiver import WebhookReceiver

from tests.conftest import load_event
from tests.integration.helpers import NEGATIVE, POSITIVE, Unavailable, results_of, upload
from tests.sam_template import function_properties, inline_policies, load_template

# IAM action for an API operation, where the two differ.
S3_ACTIONS = {
    "HeadObject": ["s3:GetObject"],
    "GetObject": ["s3:GetObject"],
    "PutObject": ["s3:PutObject"],
    "CreateMultipartUpload": ["s3:PutObject"],
    "UploadPart": ["s3:PutObject"],
    "CompleteMultipartUpload": ["s3:PutObject"],
    "CopyObject": ["s3:PutObject"],  # plus s3:GetObject on the source, checked separately
    "ListObjectsV2": ["s3:ListBucket"],
}
SQS_ACTIONS = {"SendMessageBatch": "sqs:SendMessage", "SendMessage": "sqs:SendMessage"}
# A DynamoDB transaction is authorized item by item, by the action each item performs.
TRANSACTION_ACTIONS = {
    "Update": "dynamodb:UpdateItem",
    "Put": "dynamodb:PutItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}


def allowed(statements: list[dict[str, Any]], action: str, resource: tuple[str, ...]) -> bool:
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if statement.get("Effect") == "Allow" and action in actions:
            if any(matches(declared, resource) for declared in resources):
                return True
    return False


def matches(declared: Any, resource: tuple[str, ...]) -> bool:
    """Does a template Resource (an intrinsic) cover ("table"|"index"|"queue"|"bucket"|"object"|"secret", logical id, [key])?"""
    if isinstance(declared, dict) and "Ref" in declared:
        # Ref of a secret is its ARN: exactly that secret.
        return resource[:2] == ("secret", declared["Ref"])
    if isinstance(declared, dict) and "Fn::GetAtt" in declared:
        target = declared["Fn::GetAtt"]
        logical = target[0] if isinstance(target, list) else target.split(".")[0]
        return resource[:2] in {
            ("table", logical),
            ("queue", logical),
            ("bucket", logical),
            ("bus", logical),
            ("key", logical),
        }
    if isinstance(declared, dict) and "Fn::Sub" in declared:
        pattern = declared["Fn::Sub"]
        found = re.fullmatch(r"\$\{(\w+)\.Arn\}/(.*)", pattern)
        if not found:
            return False
        logical, rest = found.groups()
        if resource[0] == "index":
            # Every index of the table, or exactly the one queried.
            return resource[1] == logical and rest in ("index/*", f"index/{resource[2]}")
        if resource[0] == "object":
            prefix = rest[:-1] if rest.endswith("*") else None
            return resource[1] == logical and prefix is not None and resource[2].startswith(prefix)
    return False


@pytest.fixture
def calls(runner):
    recorded: list[tuple[str, str, str, dict[str, Any]]] = []

    def listen(service: str, operation: str, params: dict[str, Any]) -> None:
        if runner.current_function:
            recorded.append((runner.current_function, service, operation, dict(params)))

    add_api_call_listener(listen)
    yield recorded
    remove_api_call_listener(listen)


@pytest.fixture
def llm_endpoint(runner, monkeypatch) -> Iterator[FakeOpenAI]:
    """The llm engine configured for every function (over the template's values), on the fake."""
    with FakeOpenAI() as server:
        environment = {
            "OPENAI_API_KEY": "test-key",
            "OPENAI_BASE_URL": server.base_url,
            "LLM_MAX_RETRIES": "0",
            "LLM_REQUESTS_PER_MINUTE": "0",
            "LLM_CHUNK_MAX_ITEMS": "2",
        }
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
            runner.extra_environment[name] = value
        get_settings.cache_clear()
        yield server


def test_every_call_is_allowed_by_the_calling_functions_policy(
    client, poller, runner, stack, s3, bucket, calls, monkeypatch, llm_endpoint
):
    # Given traffic through every function: a text, a batch, a drop, an LLM batch with a report
    # (twice: the second is answered from the result cache), pages, health, a dead letter, and a
    # webhook that receives every task's event (on 127.0.0.1, which this deployment allows)
    monkeypatch.setenv("CHUNK_MAX_ITEMS", "2")
    for name, value in {"WEBHOOK_ALLOWED_ADDRESSES": "127.0.0.1/32", "WEBHOOK_RETRY_BASE_SECONDS": "0"}.items():
        monkeypatch.setenv(name, value)
        runner.extra_environment[name] = value
    get_settings.cache_clear()
    receiver = WebhookReceiver()
    webhook = client.call("POST", "/v1/webhooks", {"url": receiver.url}).json()
    receiver.secret = webhook["secret"]
    receiver.fail_next(1)  # one retry: the delivery function re-queues it
    task_id = client.call("POST", "/v1/tasks", {"text": POSITIVE[0]}, headers={"Idempotency-Key": "k1"}).json()[
        "task_id"
    ]
    client.call("POST", "/v1/batches", {"filename": "x.csv"}, headers={"Idempotency-Key": "k2"})
    batch_id = upload(client, "r.txt", ("\n".join(POSITIVE + NEGATIVE) + "\n").encode())
    s3.put_object(Bucket=bucket, Key="incoming/acme/in/d.txt", Body="\n".join(NEGATIVE).encode())
    llm_options = {"engine": "llm", "aspects": ["delivery"], "report": True}
    llm_file = ("\n".join(POSITIVE + NEGATIVE) + "\n").encode()
    llm_batch = upload(client, "llm.txt", llm_file, options=llm_options)
    # (and an auto batch whose unsure items, here all of them, go to the LLM)
    auto_options = {"engine": "auto", "min_confidence": 1.0, "report": True}
    auto_batch = upload(client, "auto.txt", b"It came on Tuesday.\nThe box is blue.\n", options=auto_options)
    poller.drain()
    cached_batch = upload(client, "again.txt", llm_file, options=llm_options)
    poller.drain()
    # A split out of time hands the rest on through its own ingest queue (usecases/split_pacing.py)
    with monkeypatch.context() as out_of_time:
        out_of_time.setattr(runner.module("SplitFunction"), "HAND_ON_SECONDS", 10_000)
        handed_on = upload(client, "handed.txt", llm_file)
        poller.drain()
    assert client.call("GET", f"/v1/tasks/{handed_on}").json()["status"] == "ready"
    # A batch and a text compared with a ready batch (the creators read it; the finalizer reads its insights)
    upload(client, "compared.txt", llm_file, options={"compare_to": batch_id, "report": True})
    assert client.call("POST", "/v1/tasks", {"text": POSITIVE[0], "options": {"compare_to": batch_id}}).status == 202
    poller.drain()
    # A quoted batch, started; a batch paused by the tenant's spent monthly budget, resumed once
    # the budget is raised (the budget is set by the CLI's code, outside any function)
    quoted = upload(client, "quoted.txt", llm_file, options={**llm_options, "quote_only": True})
    poller.drain()
    assert client.call("POST", f"/v1/tasks/{quoted}/start").status == 200
    poller.drain()
    BudgetRepository(stack.ref("BudgetsTable"), boto3.client("dynamodb")).set_monthly("acme", 0.000001)
    paused = upload(client, "paused.txt", b"Fine.\nGood.\n", options={"engine": "llm", "on_budget_exhausted": "pause"})
    poller.drain()
    assert client.call("GET", f"/v1/tasks/{paused}").json()["status"] == "paused"
    BudgetRepository(stack.ref("BudgetsTable"), boto3.client("dynamodb")).set_monthly("acme", 100.0)
    assert client.call("POST", f"/v1/tasks/{paused}/resume").status == 200
    poller.drain()
    assert client.call("GET", f"/v1/tasks/{paused}").json()["status"] == "ready"
    runner.module("AnalyzeChunkFunction").analyzer = Unavailable()
    failing = upload(client, "f.txt", POSITIVE[1].encode())
    poller.drain()
    for path in (
        f"/v1/tasks/{task_id}",
        f"/v1/tasks/{batch_id}/results",
        f"/v1/tasks/{batch_id}/insights",
        "/v1/tasks",
        "/health",
    ):
        assert client.call("GET", path).status == 200
    # Pages followed by their signed cursors; each function reads the signing secret in its own
    # execution environment (here they share one interpreter: start each with fresh clients)
    for path in (f"/v1/tasks/{batch_id}/results", "/v1/tasks"):
        reset_clients()
        cursor = client.call("GET", path, query={"limit": "1"}).json()["next_cursor"]
        assert client.call("GET", path, query={"limit": "1", "cursor": cursor}).status == 200
    llm_task, cached_task = (client.call("GET", f"/v1/tasks/{t}").json() for t in (llm_batch, cached_batch))
    assert llm_task["report"]["written_by"] == "llm"
    assert (llm_task["usage"]["cached_items"], cached_task["usage"]["cached_items"]) == (0, 6)
    assert client.call("GET", f"/v1/tasks/{auto_batch}").json()["answered_by"] == {"llm": 2}
    client.call("POST", "/v1/batches", {"filename": "later.csv"})
    # Texts answered at once by the LLM (through its result cache; each request reserved against
    # the tenant's monthly budget)
    assert client.call("POST", "/v1/analyze", {"texts": NEGATIVE, "options": {"engine": "llm"}}).status == 200
    assert results_of(client, failing)[0]["error"]["code"] == "dead-lettered"
    # A Batch API task: the LLM analyzer hands its chunks over, the collector submits, collects
    # and counts them (its first batch fails and is resubmitted; each reserved and settled against
    # the budgets), and a cancelled one is closed
    batch_mode = upload(client, "batch-api.txt", llm_file, options={**llm_options, "mode": "batch"})
    cancelled = upload(client, "cancelled.txt", llm_file, options={"engine": "llm", "mode": "batch"})
    poller.drain()
    assert client.call("DELETE", f"/v1/tasks/{cancelled}").status < 300
    llm_endpoint.batches.configure({"fail": 1})
    collector_event = {"source": "aws.scheduler", "detail-type": "Scheduled Event", "detail": "{}"}
    for _ in range(6):
        runner.invoke("CollectBatchesFunction", collector_event)
        poller.drain()
    collected = client.call("GET", f"/v1/tasks/{batch_mode}").json()
    assert collected["status"] == "ready"
    assert [b["status"] for b in collected["llm_batch"]["batches"]].count("failed") == 1
    assert client.call("DELETE", f"/v1/tasks/{batch_id}", query={"purge": "true"}).status == 204
    drop = next(t for t in client.call("GET", "/v1/tasks").json()["items"] if t["type"] == "drop")
    assert client.call("DELETE", f"/v1/tasks/{drop['task_id']}", query={"purge": "true"}).status == 204
    poller.drain()
    # A tenant model trained from a ready labelled batch (and one refused for its labels), made the
    # default, read, listed and deleted with its artifact
    labelled = "".join(f"{text} {n},{stars}\n" for n in range(12) for text, stars in (("Love it", 5), ("Hate it", 1)))
    labelled_batch = upload(client, "labelled.csv", f"text,stars\n{labelled}".encode(), text_field="text")
    poller.drain()
    model_id = client.call("POST", "/v1/models", {"task_id": labelled_batch, "label_field": "stars"}).json()["model_id"]
    client.call("POST", "/v1/models", {"task_id": labelled_batch, "label_field": "text"})  # unreadable labels
    poller.drain()
    assert client.call("GET", f"/v1/models/{model_id}").json()["status"] == "ready"
    assert client.call("PUT", "/v1/models/default", {"model_id": model_id}).status == 200
    assert client.call("GET", "/v1/models").status == 200
    # Texts answered at once by the tenant's default model (its record and artifact read)
    answered = client.call("POST", "/v1/analyze", {"texts": NEGATIVE, "options": {"engine": "lexicon"}})
    assert {r["engine"] for r in answered.json()["results"]} == {"model"}
    assert client.call("DELETE", f"/v1/models/{model_id}").status == 204
    # A batch that teaches a model from the LLM (options.teach), taught first: the finalizer records
    # and queues the model once the sample is counted, the trainer reads the sample's answers from
    # the task's result parts and asks the splitter for the rest, read through the model
    taught_file = "".join(f"{text} {n}\n" for n in range(150) for text in (POSITIVE[0], NEGATIVE[0])).encode()
    teaching = upload(client, "teach.txt", taught_file, options={"engine": "auto", "teach": {"sample": 200}})
    poller.drain()
    taught = client.call("GET", f"/v1/tasks/{teaching}").json()
    taught_id = taught["teach_model_id"]
    assert client.call("GET", f"/v1/models/{taught_id}").json()["status"] == "ready"
    assert taught["status"] == "ready" and taught["options"]["model_id"] == taught_id
    # The sweeper looks for stalled tasks and for models stuck in training
    assert runner.invoke("SweeperFunction", load_event("sweeper.json"))["models_failed"] == 0
    assert receiver.accepted() and client.call("GET", "/v1/webhooks").status == 200
    rotated = client.call("POST", f"/v1/webhooks/{webhook['webhook_id']}/rotate-secret", {"overlap_seconds": 60})
    assert rotated.status == 200, rotated.body
    assert client.call("DELETE", f"/v1/webhooks/{webhook['webhook_id']}").status == 204
    receiver.close()
    # And the cursor signing secret is rotated by its function (Secrets Manager's four steps)
    for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
        event = {
            "Step": step,
            "SecretId": stack.ref("CursorSigningSecret"),
            "ClientRequestToken": "5e0c1f7a-rotation-token-0000000000001",
        }
        assert runner.invoke("CursorKeyRotationFunction", event) == {"step": step}
    # And last, the tenant's data is erased: every table and bucket area it holds anything in
    erased = client.call("DELETE", "/v1/tenant/data")
    assert erased.status == 200 and erased.json()["tasks"] > 0 and erased.json()["cache_entries"] > 0

    # Then every function called AWS, and each call is allowed by its own statements
    template = load_template()
    names = {
        stack.ref(logical): logical
        for logical in (
            "TasksTable",
            "KeysTable",
            "IdempotencyTable",
            "ResultCacheTable",
            "BudgetsTable",
            "ProviderBatchesTable",
            "ModelsTable",
            "DataBucket",
        )
    }
    queues = {stack.ref(q): q for q in ("WorkQueue", "LlmWorkQueue", "FinalizeQueue", "IngestQueue", "TrainingQueue")}
    names[stack.ref("CursorSigningSecret")] = "CursorSigningSecret"
    names[stack.ref("TaskEventBus")] = "TaskEventBus"
    names[stack.ref("WebhooksTable")] = "WebhooksTable"
    names[stack.ref("WebhookSecretsKey")] = "WebhookSecretsKey"
    queues.update({stack.ref(q): q for q in ("WebhookQueue", "WebhookDeadLetterQueue")})
    seen: dict[str, set[str]] = defaultdict(set)
    presigned_posts: set[str] = set()
    denied = []
    for function, service, operation, params in calls:
        statements = [
            s
            for p in inline_policies(function_properties(template, function).get("Policies", []))
            for s in p["Statement"]
        ]
        seen[function].add(f"{service}:{operation}")
        if (service, operation) == ("s3", "CreateBucket"):
            # botocore builds a CreateBucket request to sign a presigned POST; nothing is sent.
            presigned_posts.add(function)
            continue
        for action, resource in required(service, operation, params, names, queues):
            if not allowed(statements, action, resource):
                denied.append((function, action, resource))
    assert not denied, denied
    # A presigned POST is signed with the function's role: the role must be allowed the upload.
    for function in presigned_posts:
        statements = [
            s
            for p in inline_policies(function_properties(template, function).get("Policies", []))
            for s in p["Statement"]
        ]
        assert allowed(statements, "s3:PutObject", ("object", "DataBucket", "uploads/acme/t/f.csv")), function
    assert set(seen) >= {
        "AuthorizerFunction",
        "CreateTaskFunction",
        "CreateBatchFunction",
        "GetTaskFunction",
        "GetResultsFunction",
        "GetInsightsFunction",
        "ListTasksFunction",
        "HealthFunction",
        "SplitFunction",
        "AnalyzeChunkFunction",
        "LlmAnalyzeChunkFunction",
        "FinalizeFunction",
        "DeadLetterFunction",
        "DeleteTaskFunction",
        "StartTaskFunction",
        "ResumeTaskFunction",
        "CollectBatchesFunction",
        "AnalyzeTextsFunction",
        "CreateWebhookFunction",
        "ListWebhooksFunction",
        "DeleteWebhookFunction",
        "RotateWebhookSecretFunction",
        "DeliverWebhooksFunction",
        "PublishTaskEventsFunction",
        "EraseTenantDataFunction",
        "CursorKeyRotationFunction",
        "CreateModelFunction",
        "ListModelsFunction",
        "GetModelFunction",
        "DeleteModelFunction",
        "SetDefaultModelFunction",
        "TrainModelFunction",
    }
    # And POST /v1/analyze read the tenant's default model's record and artifact
    assert seen["AnalyzeTextsFunction"] >= {"dynamodb:GetItem", "s3:GetObject"}
    # And the trainer wrote the artifact it was granted; the delete removed it
    assert seen["TrainModelFunction"] >= {"s3:GetObject", "s3:PutObject", "dynamodb:PutItem"}
    # And the finalizer asked for the taught model with the grants options.teach gave it
    assert seen["FinalizeFunction"] >= {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "sqs:SendMessage"}
    assert "s3:DeleteObject" in seen["DeleteModelFunction"] or "s3:DeleteObjects" in seen["DeleteModelFunction"]
    # And erasure used each of its grants (checked above): queries by key, the cache's Scan, deletes
    assert seen["EraseTenantDataFunction"] >= {
        "dynamodb:Query",
        "dynamodb:Scan",
        "dynamodb:DeleteItem",
        "s3:ListObjectsV2",
        "s3:DeleteObjects",
    }
    # And exactly the two functions that page, and the rotation, read the cursor signing secret
    readers = {function for function, operations in seen.items() if "secretsmanager:GetSecretValue" in operations}
    assert readers == {"GetResultsFunction", "ListTasksFunction", "CursorKeyRotationFunction"}
    # And only the rotation function writes it
    writers = {function for function, operations in seen.items() if "secretsmanager:PutSecretValue" in operations}
    assert writers == {"CursorKeyRotationFunction"}
    # And only the stream's publisher announced the tasks that ended here (the outbox), using
    # its idempotency records (allowed above); no function that ends a task calls the bus itself
    announcers = {function for function, operations in seen.items() if "events:PutEvents" in operations}
    assert announcers == {"PublishTaskEventsFunction"}
    assert seen["PublishTaskEventsFunction"] >= {"dynamodb:PutItem", "dynamodb:UpdateItem"}
    # And only the delivery function decrypts webhook secrets; only registration and rotation
    # encrypt them, and the rotation moves the old ciphertext with one UpdateItem, reading nothing
    decrypters = {function for function, operations in seen.items() if "kms:Decrypt" in operations}
    encrypters = {function for function, operations in seen.items() if "kms:Encrypt" in operations}
    assert decrypters == {"DeliverWebhooksFunction"}
    assert encrypters == {"CreateWebhookFunction", "RotateWebhookSecretFunction"}
    assert seen["RotateWebhookSecretFunction"] == {"kms:Encrypt", "dynamodb:UpdateItem"}
    # And the LLM analyzer both read and wrote the result cache, whose calls were checked above
    assert seen["LlmAnalyzeChunkFunction"] >= {"dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"}
    # And the budget's reservations and the parked chunks were exercised (and checked above)
    assert seen["LlmAnalyzeChunkFunction"] >= {"dynamodb:GetItem", "dynamodb:UpdateItem", "s3:PutObject"}
    assert seen["ResumeTaskFunction"] >= {"s3:ListObjectsV2", "s3:GetObject", "s3:DeleteObject", "sqs:SendMessageBatch"}
    # And the Batch API's grants are each used: the analyzer lists a chunk and its task, the
    # collector reads its index and records, writes answers, rounds and counts, reads and writes parts
    assert seen["LlmAnalyzeChunkFunction"] >= {"dynamodb:PutItem", "dynamodb:UpdateItem"}
    # And the budgets were reserved and settled on every path that spends: the collector in
    # transactions with its rounds' records, POST /v1/analyze request by request (checked above)
    budget_table = stack.ref("BudgetsTable")
    transacted = {
        body["TableName"]
        for function, _, operation, params in calls
        if function == "CollectBatchesFunction" and operation == "TransactWriteItems"
        for item in params["TransactItems"]
        for body in item.values()
    }
    assert transacted == {stack.ref("ProviderBatchesTable"), stack.ref("TasksTable"), budget_table}
    analyze_budget_calls = {
        operation
        for function, _, operation, params in calls
        if function == "AnalyzeTextsFunction" and params.get("TableName") == budget_table
    }
    assert analyze_budget_calls == {"GetItem", "UpdateItem"}
    assert seen["CollectBatchesFunction"] >= {
        "dynamodb:Query",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:GetItem",
        "s3:GetObject",
        "s3:PutObject",
        "sqs:SendMessage",
    }


def required(service, operation, params, names, queues):
    if service == "dynamodb":
        if operation in ("BatchGetItem", "BatchWriteItem"):
            # One call may name several tables: each must be allowed.
            return [(f"dynamodb:{operation}", ("table", names[name])) for name in params["RequestItems"]]
        if operation == "TransactWriteItems":
            return [
                (TRANSACTION_ACTIONS[kind], ("table", names[body["TableName"]]))
                for item in params["TransactItems"]
                for kind, body in item.items()
            ]
        table = names[params["TableName"]]
        if "IndexName" in params:
            return [(f"dynamodb:{operation}", ("index", table, params["IndexName"]))]
        return [(f"dynamodb:{operation}", ("table", table))]
    if service == "sqs":
        return [(SQS_ACTIONS.get(operation, f"sqs:{operation}"), ("queue", queues[params["QueueUrl"]]))]
    if service == "s3":
        bucket = names[params["Bucket"]]
        if operation == "ListObjectsV2":
            return [("s3:ListBucket", ("bucket", bucket))]
        if operation == "DeleteObjects":
            return [("s3:DeleteObject", ("object", bucket, o["Key"])) for o in params["Delete"]["Objects"]]
        if operation == "DeleteObject":
            return [("s3:DeleteObject", ("object", bucket, params["Key"]))]
        needs = [(action, ("object", bucket, params["Key"])) for action in S3_ACTIONS[operation]]
        if operation == "CopyObject":
            source = params["CopySource"]
            source_key = source["Key"] if isinstance(source, dict) else source.split("/", 1)[1]
            needs.append(("s3:GetObject", ("object", bucket, source_key)))
        return needs
    if service == "events":
        # One call may put entries on several buses: each must be allowed.
        return [("events:PutEvents", ("bus", names[entry["EventBusName"]])) for entry in params["Entries"]]
    if service == "kms":
        return [(f"kms:{operation}", ("key", names[params["KeyId"]]))]
    if service == "secretsmanager":
        return [(f"secretsmanager:{operation}", ("secret", names[params["SecretId"]]))]
    raise AssertionError(f"unexpected service {service}")
