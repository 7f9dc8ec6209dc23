"""The error table (docs/api.md, "Errors") is the contract: every row it documents is answered with exactly that
status and code, as application/problem+json, for several inputs of each class (too short, too
long, edge lengths, bad characters, wrong types), through API Gateway REST proxy events.

The rows are read from docs/api.md itself, so the table and the code cannot drift apart: a row
without inputs here fails, and so does an input whose answer differs from its row.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from reviewpulse.tasks.repository import TaskRepository
from reviewpulse.tenants.budgets import BudgetRepository
from reviewpulse.tenants.keys import KeyRepository
from reviewpulse.tenants.scopes import parse_scopes
from reviewpulse_tools.local.apigateway import ApiGateway, ApiResponse, UsagePlanThrottle
from reviewpulse_tools.local.sqs import QueuePoller

from tests.conftest import Client
from tests.documentation import API_PAGE, section
from tests.integration.helpers import upload

PROBLEM = "application/problem+json"
_ROW = re.compile(r"^\|\s*(\d{3})\s*\|\s*`([a-z-]+)`\s*\|\s*(.+?)\s*\|\s*$")


def encode_cursor(values: dict) -> str:
    """A cursor as this API's unsigned ones once were: base64 JSON of a position. Never valid now."""
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def documented_errors() -> dict[str, int]:
    """code → status, from the table under the `## Errors` heading of docs/api.md."""
    rows = [_ROW.match(line) for line in section(API_PAGE, "## Errors").splitlines()]
    return {m.group(2): int(m.group(1)) for m in rows if m}


@dataclass
class World:
    """What the inputs of a row need: two tenants' clients, the gateway, the queues and the stack."""

    client: Client
    other: Client
    gateway: ApiGateway
    poller: QueuePoller
    stack: Any

    def queued_task(self) -> str:
        return self.client.call("POST", "/v1/tasks", {"text": "Lovely shoes"}).json()["task_id"]

    def ready_task(self) -> str:
        task_id = self.client.call("POST", "/v1/tasks", {"text": "Lovely shoes"}).json()["task_id"]
        self.poller.drain()
        assert self.client.call("GET", f"/v1/tasks/{task_id}").json()["status"] == "ready"
        return task_id

    def error_task(self) -> str:
        task_id = upload(self.client, "empty.csv", b"")
        self.poller.drain()
        assert self.client.call("GET", f"/v1/tasks/{task_id}").json()["status"] == "error"
        return task_id

    def paused_task(self, **options: Any) -> str:
        """A task its budget paused, waiting for room for a request of $0.001."""
        body = {"text": "Lovely shoes", "options": {"on_budget_exhausted": "pause", **options}}
        task_id = self.client.call("POST", "/v1/tasks", body).json()["task_id"]
        tasks = TaskRepository(self.stack.ref("TasksTable"), boto3.client("dynamodb"))
        assert tasks.mark_paused("acme", task_id, "a budget ran out", needed_micros=1_000)
        return task_id

    def webhooks_full(self, url: str | None = None) -> Any:
        """The tenant has its ten webhooks (registered here as needed), then registers one more."""
        have = len(self.client.call("GET", "/v1/webhooks").json()["items"])
        for n in range(have, 10):
            assert self.client.call("POST", "/v1/webhooks", {"url": f"https://hooks.example.com/{n}"}).status == 201
        return self.client.call("POST", "/v1/webhooks", {"url": url or "https://hooks.example.com/eleventh"})

    def labelled_task(self, label: str = "5") -> str:
        """A ready batch whose file has a `stars` column (every row labelled `label`)."""
        rows = "".join(f"Lovely shoes number {n},{label}\n" for n in range(12))
        task_id = upload(self.client, "labelled.csv", f"text,stars\n{rows}".encode(), text_field="text")
        self.poller.drain()
        assert self.client.call("GET", f"/v1/tasks/{task_id}").json()["status"] == "ready"
        return task_id

    def train(self, task_id: str) -> ApiResponse:
        return self.client.call("POST", "/v1/models", {"task_id": task_id, "label_field": "stars"})

    def models_full(self) -> ApiResponse:
        """The tenant has its 50 models (queued here as needed), then asks for one more."""
        task_id = self.labelled_task()
        have = len(self.client.call("GET", "/v1/models").json()["items"])
        for _ in range(have, 50):
            assert self.train(task_id).status == 202
        return self.train(task_id)

    def default_model(self, *, failed: bool) -> ApiResponse:
        """A model still training, or one that failed (its labels are all one class), as the default."""
        model_id = self.train(self.labelled_task()).json()["model_id"]
        if failed:
            self.poller.drain()
            assert self.client.call("GET", f"/v1/models/{model_id}").json()["status"] == "failed"
        return self.client.call("PUT", "/v1/models/default", {"model_id": model_id})

    def task_naming_model(self, kind: str, path: str) -> ApiResponse:
        """A new text task or batch whose options name a model of acme still `training`, one that
        `failed`, a ready one since `deleted`, or (`other`) a ready one of acme, named by globex."""
        if kind in ("training", "failed"):
            model_id = self.train(self.labelled_task()).json()["model_id"]
            if kind == "failed":
                self.poller.drain()
        else:
            rows = "".join(f"Lovely shoes number {n},5\nAwful shoes number {n},1\n" for n in range(12))
            task_id = upload(self.client, "two.csv", f"text,stars\n{rows}".encode(), text_field="text")
            self.poller.drain()
            model_id = self.train(task_id).json()["model_id"]
            self.poller.drain()
            assert self.client.call("GET", f"/v1/models/{model_id}").json()["status"] == "ready"
            if kind == "deleted":
                assert self.client.call("DELETE", f"/v1/models/{model_id}").status == 204
        caller = self.other if kind == "other" else self.client
        body = {"filename": "a.csv"} if path == BATCH else {"text": "ok"}
        return caller.call("POST", path, {**body, "options": {"model_id": model_id}})

    def with_key(self, key: str | None) -> Client:
        return Client(self.gateway, key)

    def in_progress(self, method: str, path: str, body: Any, key: str) -> ApiResponse:
        """A retry while the first request with its key still runs: the first one's record is left
        as Powertools leaves it while the first request runs (INPROGRESS, not yet expired)."""
        headers = {"Idempotency-Key": key}
        first = self.client.call(method, path, body, headers=headers)
        assert first.status in (201, 202), first.body
        ddb = boto3.client("dynamodb")
        table = self.stack.ref("IdempotencyTable")
        (record,) = [i for i in ddb.scan(TableName=table)["Items"] if i["status"]["S"] == "COMPLETED"]
        ddb.update_item(
            TableName=table,
            Key={"id": record["id"]},
            UpdateExpression="SET #s = :running, in_progress_expiration = :later REMOVE #d",
            ExpressionAttributeNames={"#s": "status", "#d": "data"},
            ExpressionAttributeValues={":running": {"S": "INPROGRESS"}, ":later": {"N": "99999999999999"}},
        )
        return self.client.call(method, path, body, headers=headers)


Case = Callable[[World], ApiResponse]
TEXT = "/v1/tasks"
BATCH = "/v1/batches"
UNKNOWN_TASK = "f" * 28


class Request:
    """A case that is one request and needs nothing set up first: it can be sent to any deployment
    (tests/local sends these over HTTP to the local stack)."""

    def __init__(self, method: str, path: str, body: Any = None, headers=None, query=None) -> None:
        self.method, self.path, self.body, self.headers, self.query = method, path, body, headers, query

    def __call__(self, w: World) -> ApiResponse:
        return w.client.call(self.method, self.path, self.body, query=self.query, headers=self.headers)


def _post(path: str, body: Any, headers: dict[str, str] | None = None) -> Case:
    return Request("POST", path, body, headers=headers)


def _get(path: str, query: dict[str, str] | None = None) -> Case:
    return Request("GET", path, query=query)


def _results_with_cursor(cursor: Callable[[World, str], str]) -> Case:
    def call(w: World) -> ApiResponse:
        task_id = w.ready_task()
        return w.client.call("GET", f"/v1/tasks/{task_id}/results", query={"cursor": cursor(w, task_id)})

    return call


def _another_tenants_list_cursor(w: World) -> ApiResponse:
    for n in range(2):
        w.other.call("POST", TEXT, {"text": f"theirs {n}"})
    cursor = w.other.call("GET", TEXT, query={"limit": "1"}).json()["next_cursor"]
    assert cursor
    return w.client.call("GET", TEXT, query={"cursor": cursor})


def _revoked_key(w: World) -> ApiResponse:
    keys = KeyRepository(w.stack.ref("KeysTable"), boto3.client("dynamodb"))
    key, record = keys.create("initech", "usage-initech")
    assert keys.revoke("initech", record.key_id) is not None
    return w.with_key(key).call("GET", TEXT)


def _expired_key(w: World) -> ApiResponse:
    keys = KeyRepository(w.stack.ref("KeysTable"), boto3.client("dynamodb"))
    key, record = keys.create("initech", "usage-initech", name="expired")
    assert keys.expire("initech", record.key_id) is not None
    return w.with_key(key).call("GET", TEXT)


def _scoped(scopes: str, method: str, path: str | Callable[[World], str], body: Any = None) -> Case:
    """A request of the tenant's own, with a key of the tenant that holds only `scopes`."""

    def call(w: World) -> ApiResponse:
        keys = KeyRepository(w.stack.ref("KeysTable"), boto3.client("dynamodb"))
        key, _ = keys.create("acme", "usage-acme", scopes=parse_scopes(scopes.split(",")))
        return w.with_key(key).call(method, path if isinstance(path, str) else path(w), body)

    return call


def _over_the_rate(w: World) -> ApiResponse:
    # The usage plan's burst, all at one instant (a frozen clock refills nothing): the next is over.
    throttle = UsagePlanThrottle(rate=1, burst=3, clock=lambda: 0.0)
    throttled = Client(ApiGateway(w.gateway.runner, throttle=throttle), w.client.api_key)
    answers = [throttled.call("GET", TEXT) for _ in range(4)]
    assert [a.status for a in answers[:3]] == [200] * 3
    return answers[-1]


def _other_tenant_over_the_rate(w: World) -> ApiResponse:
    # Tenants are throttled apart: one tenant's burst leaves the other's untouched, and vice versa.
    throttle = UsagePlanThrottle(rate=1, burst=2, clock=lambda: 0.0)
    gateway = ApiGateway(w.gateway.runner, throttle=throttle)
    mine, theirs = Client(gateway, w.client.api_key), Client(gateway, w.other.api_key)
    assert [mine.call("GET", TEXT).status for _ in range(2)] == [200, 200]
    assert theirs.call("GET", TEXT).status == 200
    return mine.call("POST", TEXT, {"text": "one too many"})


def _tasks_table_gone(w: World) -> ApiResponse:
    boto3.client("dynamodb").delete_table(TableName=w.stack.ref("TasksTable"))
    return w.gateway.request("GET", "/health")


def _tasks_table_renamed(monkeypatch: pytest.MonkeyPatch) -> Case:
    def call(w: World) -> ApiResponse:
        monkeypatch.setitem(w.gateway.runner.function_environment, "HealthFunction", {"TASKS_TABLE_NAME": "no-such"})
        from reviewpulse.settings import get_settings

        get_settings.cache_clear()
        return w.gateway.request("GET", "/health")

    return call


def cases(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[tuple[str, Case]]]:
    """Several inputs per documented code, by class; each names only its code, the status is the
    table's."""
    bad_keys = {
        "empty": "",
        "129 characters": "k" * 129,
        "10 KB": "k" * 10_240,
        "a space": "has space",
        "non-ASCII": "ünïcode",
        "a semicolon": "semi;colon",
        "a slash": "a/b",
        "only a tab": "\t",
    }
    return {
        "column-not-found": [
            ("text, group_by", _post(TEXT, {"text": "ok", "options": {"group_by": ["product"]}})),
            ("text, time_field", _post(TEXT, {"text": "ok", "options": {"time_field": "created_at"}})),
            ("text, both", _post(TEXT, {"text": "ok", "options": {"group_by": ["a", "b"], "time_field": "c"}})),
        ],
        "compare-unavailable": [
            (
                "batch, no time_field",
                _post(BATCH, {"filename": "a.csv", "options": {"compare": {"at": "last-bucket"}}}),
            ),
            (
                "batch, with compare_to",
                _post(
                    BATCH,
                    {
                        "filename": "a.csv",
                        "options": {"time_field": "d", "compare": {"at": "2026-03-01"}, "compare_to": "0" * 28},
                    },
                ),
            ),
            ("text, no time_field", _post(TEXT, {"text": "ok", "options": {"compare": {"at": "2026-03-01"}}})),
        ],
        "engine-unavailable": [
            ("text, llm", _post(TEXT, {"text": "ok", "options": {"engine": "llm"}})),
            ("text, llm with aspects", _post(TEXT, {"text": "ok", "options": {"engine": "llm", "aspects": ["x"]}})),
            ("batch, llm", _post(BATCH, {"filename": "a.csv", "options": {"engine": "llm"}})),
            ("batch, llm, report", _post(BATCH, {"filename": "a.csv", "options": {"engine": "llm", "report": True}})),
        ],
        "batch-mode-unavailable": [
            ("text, lexicon", _post(TEXT, {"text": "ok", "options": {"engine": "lexicon", "mode": "batch"}})),
            ("batch, lexicon", _post(BATCH, {"filename": "a.csv", "options": {"engine": "lexicon", "mode": "batch"}})),
            ("text, auto without an LLM", _post(TEXT, {"text": "ok", "options": {"engine": "auto", "mode": "batch"}})),
            ("batch, default engine", _post(BATCH, {"filename": "a.csv", "options": {"mode": "batch"}})),
        ],
        "teach-unavailable": [
            (
                "batch, lexicon",
                _post(BATCH, {"filename": "a.csv", "options": {"engine": "lexicon", "teach": {"sample": 200}}}),
            ),
            (
                "batch, auto without an LLM",
                _post(BATCH, {"filename": "a.csv", "options": {"engine": "auto", "teach": {"sample": 500}}}),
            ),
            ("text, auto", _post(TEXT, {"text": "ok", "options": {"engine": "auto", "teach": {"sample": 200}}})),
        ],
        "redaction-required": [
            ("text, lexicon", _post(TEXT, {"text": "ok", "options": {"redact_pii": False}})),
            ("text, llm", _post(TEXT, {"text": "ok", "options": {"engine": "llm", "redact_pii": False}})),
            ("text, auto", _post(TEXT, {"text": "ok", "options": {"engine": "auto", "redact_pii": False}})),
            ("batch, auto", _post(BATCH, {"filename": "a.csv", "options": {"engine": "auto", "redact_pii": False}})),
        ],
        "invalid-cursor": [
            ("list, not base64", _get(TEXT, {"cursor": "!!!"})),
            ("list, an empty object", _get(TEXT, {"cursor": "e30"})),
            ("list, empty", _get(TEXT, {"cursor": ""})),
            ("list, 5,000 characters", _get(TEXT, {"cursor": "x" * 5000})),
            ("list, 2,049 characters", _get(TEXT, {"cursor": "A" * 2049})),
            ("list, another tenant's", _another_tenants_list_cursor),
            (
                "list, a results cursor",
                lambda w: w.client.call("GET", TEXT, query={"cursor": encode_cursor({"t": "x", "o": 1})}),
            ),
            ("results, another task's", _results_with_cursor(lambda w, t: encode_cursor({"t": UNKNOWN_TASK, "o": 0}))),
            ("results, an offset never given", _results_with_cursor(lambda w, t: encode_cursor({"t": t, "o": 5}))),
            ("results, a negative offset", _results_with_cursor(lambda w, t: encode_cursor({"t": t, "o": -1}))),
            ("results, a string offset", _results_with_cursor(lambda w, t: encode_cursor({"t": t, "o": "0"}))),
            ("results, empty", _results_with_cursor(lambda w, t: "")),
            ("results, 600 characters", _results_with_cursor(lambda w, t: "A" * 600)),
            ("results, 10 KB", _results_with_cursor(lambda w, t: "A" * 10_240)),
        ],
        "invalid-fields": [
            ("list, an unknown field", _get(TEXT, {"fields": "task_id,colour"})),
            ("list, empty", _get(TEXT, {"fields": ""})),
            ("list, a trailing comma", _get(TEXT, {"fields": "task_id,"})),
            ("list, a result's field", _get(TEXT, {"fields": "label"})),
            ("list, 10 KB", _get(TEXT, {"fields": "x," * 5_120})),
            (
                "results, a task's field",
                lambda w: w.client.call("GET", f"/v1/tasks/{w.ready_task()}/results", query={"fields": "status"}),
            ),
        ],
        "unauthorized": [
            ("no key", lambda w: w.with_key(None).call("GET", TEXT)),
            ("an unknown key", lambda w: w.with_key("rp_" + "0" * 40).call("GET", TEXT)),
            ("a revoked key", _revoked_key),
            ("an expired key", _expired_key),
            ("a 10 KB key", lambda w: w.with_key("k" * 10_240).call("POST", TEXT, {"text": "ok"})),
            ("no key on results", lambda w: w.with_key(None).call("GET", f"/v1/tasks/{UNKNOWN_TASK}/results")),
        ],
        "insufficient-scope": [
            ("a read key creates a task", _scoped("read", "POST", TEXT, {"text": "ok"})),
            ("a read key cancels its tenant's task", _scoped("read", "DELETE", lambda w: f"{TEXT}/{w.queued_task()}")),
            ("an analyze key lists webhooks", _scoped("analyze", "GET", "/v1/webhooks")),
            ("an admin key reads results", _scoped("admin", "GET", lambda w: f"{TEXT}/{w.ready_task()}/results")),
            ("a read,admin key analyses texts", _scoped("read,admin", "POST", "/v1/analyze", {"texts": ["ok"]})),
        ],
        "not-found": [
            ("an unknown task", _get(f"/v1/tasks/{UNKNOWN_TASK}")),
            ("another tenant's task", lambda w: w.other.call("GET", f"/v1/tasks/{w.queued_task()}")),
            ("another tenant's results", lambda w: w.other.call("GET", f"/v1/tasks/{w.ready_task()}/results")),
            ("another tenant's cancel", lambda w: w.other.call("DELETE", f"/v1/tasks/{w.queued_task()}")),
            ("a 300-character id", _get("/v1/tasks/" + "a" * 300)),
            ("a one-character id", _get("/v1/tasks/a")),
            ("an id with bad characters", _get("/v1/tasks/%00%27%22")),
            ("an unknown route", _get("/v2/tasks")),
            ("an unknown method", lambda w: w.client.call("PUT", TEXT, {"text": "ok"})),
            ("an unknown model", _get("/v1/models/mdl_0123456789abcdef")),
            ("a model id of another shape", _get("/v1/models/default")),
            (
                "another tenant's model",
                lambda w: w.other.call("GET", f"/v1/models/{w.train(w.labelled_task()).json()['model_id']}"),
            ),
            (
                "another tenant's task to train from",
                lambda w: w.other.call("POST", "/v1/models", {"task_id": w.labelled_task(), "label_field": "stars"}),
            ),
        ],
        "invalid-idempotency-key": [
            *(
                (f"text, {name}", _post(TEXT, {"text": "ok"}, {"Idempotency-Key": key}))
                for name, key in bad_keys.items()
            ),
            *(
                (f"batch, {name}", _post(BATCH, {"filename": "a.csv"}, {"Idempotency-Key": key}))
                for name, key in bad_keys.items()
            ),
        ],
        "task-not-ready": [
            ("queued", lambda w: w.client.call("GET", f"/v1/tasks/{w.queued_task()}/results")),
            (
                "a model from a batch waiting for its file",
                lambda w: w.train(w.client.call("POST", BATCH, {"filename": "a.csv"}).json()["task"]["task_id"]),
            ),
            (
                "waiting for its file",
                lambda w: w.client.call(
                    "GET",
                    f"/v1/tasks/{w.client.call('POST', BATCH, {'filename': 'a.csv'}).json()['task']['task_id']}/results",
                ),
            ),
            ("ended in error", lambda w: w.client.call("GET", f"/v1/tasks/{w.error_task()}/results")),
            (
                "cancelled",
                lambda w: w.client.call(
                    "GET",
                    f"/v1/tasks/{w.client.call('DELETE', f'/v1/tasks/{w.queued_task()}').json()['task_id']}/results",
                ),
            ),
            (
                "queued, with a cursor",
                lambda w: w.client.call("GET", f"/v1/tasks/{w.queued_task()}/results", query={"cursor": "e30"}),
            ),
        ],
        "task-finished": [
            ("ready", lambda w: w.client.call("DELETE", f"/v1/tasks/{w.ready_task()}")),
            ("ended in error", lambda w: w.client.call("DELETE", f"/v1/tasks/{w.error_task()}")),
        ],
        "task-not-quoted": [
            ("a ready text task", lambda w: w.client.call("POST", f"/v1/tasks/{w.ready_task()}/start")),
            ("a task in error", lambda w: w.client.call("POST", f"/v1/tasks/{w.error_task()}/start")),
            ("a quote_only batch before its upload", _start_before_upload),
        ],
        "task-not-paused": [
            ("a ready task", lambda w: w.client.call("POST", f"/v1/tasks/{w.ready_task()}/resume")),
            ("a task in error", lambda w: w.client.call("POST", f"/v1/tasks/{w.error_task()}/resume")),
            ("a batch waiting for its file", _resume_before_upload),
        ],
        "budget-exhausted": [
            (
                "its max_cost_usd still spent",
                lambda w: w.client.call("POST", f"/v1/tasks/{w.paused_task(max_cost_usd=0.0001)}/resume"),
            ),
            (
                "a higher max_cost_usd still too small",
                lambda w: w.client.call(
                    "POST", f"/v1/tasks/{w.paused_task(max_cost_usd=0.0001)}/resume", {"max_cost_usd": 0.0005}
                ),
            ),
            ("the tenant's month spent", _resume_with_the_month_spent),
        ],
        "idempotency-key-reused": [
            ("text, another text", lambda w: _reuse(w, TEXT, {"text": "Nice"}, {"text": "Bad"})),
            ("text, another id", lambda w: _reuse(w, TEXT, {"text": "Nice"}, {"text": "Nice", "id": "1"})),
            (
                "text, other options",
                lambda w: _reuse(w, TEXT, {"text": "Nice"}, {"text": "Nice", "options": {"report": True}}),
            ),
            ("batch, another file", lambda w: _reuse(w, BATCH, {"filename": "a.csv"}, {"filename": "b.csv"})),
            ("128-character key", lambda w: _reuse(w, TEXT, {"text": "Nice"}, {"text": "Bad"}, key="k" * 128)),
        ],
        "idempotency-in-progress": [
            ("text", lambda w: w.in_progress("POST", TEXT, {"text": "Nice"}, "still-running")),
            ("batch", lambda w: w.in_progress("POST", BATCH, {"filename": "a.csv"}, "still-running-2")),
            ("one-character key", lambda w: w.in_progress("POST", TEXT, {"text": "Nice"}, "k")),
        ],
        "too-large": [
            ("one over", _post(TEXT, {"text": "x" * 5001})),
            ("20,001 characters", _post(TEXT, {"text": "x" * 20_001})),
            ("a megabyte", _post(TEXT, {"text": "y" * 1_000_000})),
            ("5,001 emoji", _post(TEXT, {"text": "\U0001f600" * 5001})),
            ("with an Idempotency-Key", _post(TEXT, {"text": "x" * 5001}, {"Idempotency-Key": "big-one"})),
        ],
        "unsupported-format": [
            ("xls", _post(BATCH, {"filename": "a.csv", "format": "xls"})),
            ("empty", _post(BATCH, {"filename": "a.csv", "format": ""})),
            ("17 characters", _post(BATCH, {"filename": "a.csv", "format": "c" * 17})),
            ("10 KB", _post(BATCH, {"filename": "a.csv", "format": "c" * 10_240})),
            ("csv with a space", _post(BATCH, {"filename": "a.csv", "format": "csv "})),
            ("an unknown extension", _post(BATCH, {"filename": "a.ods"})),
            ("no extension", _post(BATCH, {"filename": "reviews"})),
        ],
        "label-column-not-found": [
            (
                "a column the file lacks",
                lambda w: w.client.call("POST", "/v1/models", {"task_id": w.labelled_task(), "label_field": "rating"}),
            ),
            (
                "a column in another case",
                lambda w: w.client.call("POST", "/v1/models", {"task_id": w.labelled_task(), "label_field": "Stars"}),
            ),
            ("a single text's task", lambda w: w.train(w.ready_task())),
        ],
        "model-limit": [
            ("a 51st model", lambda w: w.models_full()),
            ("a 52nd model", lambda w: (w.models_full(), w.models_full())[1]),
        ],
        "model-not-ready": [
            ("a model still training", lambda w: w.default_model(failed=False)),
            ("a failed model", lambda w: w.default_model(failed=True)),
            ("a batch naming a model still training", lambda w: w.task_naming_model("training", BATCH)),
            ("a text naming a failed model", lambda w: w.task_naming_model("failed", TEXT)),
        ],
        "model-not-found": [
            (
                "a batch naming no model",
                _post(BATCH, {"filename": "a.csv", "options": {"model_id": "mdl_0123456789abcdef"}}),
            ),
            (
                "a text naming a name that is no model id",
                _post(TEXT, {"text": "ok", "options": {"model_id": "student"}}),
            ),
            ("a text naming a deleted model", lambda w: w.task_naming_model("deleted", TEXT)),
            (
                "texts to analyse naming no model",
                _post("/v1/analyze", {"texts": ["ok"], "options": {"model_id": "mdl_0"}}),
            ),
            ("a batch naming another tenant's model", lambda w: w.task_naming_model("other", BATCH)),
        ],
        "webhook-limit": [
            ("an 11th webhook", lambda w: w.webhooks_full()),
            ("an 11th with a URL already registered", lambda w: w.webhooks_full("https://hooks.example.com/0")),
        ],
        "validation-error": [
            ("analyze: no texts", _post("/v1/analyze", {"texts": []})),
            ("analyze: 26 texts", _post("/v1/analyze", {"texts": ["fine"] * 26})),
            ("webhook over http", _post("/v1/webhooks", {"url": "http://hooks.example.com/x"})),
            ("webhook to a private address", _post("/v1/webhooks", {"url": "https://10.0.0.1/x"})),
            ("webhook to the metadata service", _post("/v1/webhooks", {"url": "https://169.254.169.254/"})),
            ("webhook to a decimal address", _post("/v1/webhooks", {"url": "https://2130706433/"})),
            ("text a number", _post(TEXT, {"text": 42})),
            ("text a list", _post(TEXT, {"text": ["a"]})),
            ("text null", _post(TEXT, {"text": None})),
            ("text empty", _post(TEXT, {"text": ""})),
            ("text blank", _post(TEXT, {"text": "   "})),
            ("no text", _post(TEXT, {})),
            ("an unknown field", _post(TEXT, {"text": "ok", "tenant": "globex"})),
            ("id empty", _post(TEXT, {"text": "ok", "id": ""})),
            ("id 257 characters", _post(TEXT, {"text": "ok", "id": "i" * 257})),
            ("engine unknown", _post(TEXT, {"text": "ok", "options": {"engine": "gpt"}})),
            ("min_confidence over 1", _post(TEXT, {"text": "ok", "options": {"engine": "auto", "min_confidence": 2}})),
            (
                "min_confidence on lexicon",
                _post(TEXT, {"text": "ok", "options": {"engine": "lexicon", "min_confidence": 0.5}}),
            ),
            ("aspects repeated", _post(TEXT, {"text": "ok", "options": {"aspects": ["a", "A"]}})),
            ("21 aspects", _post(TEXT, {"text": "ok", "options": {"aspects": [f"a{n}" for n in range(21)]}})),
            ("body a list", _post(TEXT, "[]")),
            ("body not JSON", _post(TEXT, "{not json")),
            ("body empty", _post(TEXT, "")),
            ("filename 1,025 characters", _post(BATCH, {"filename": "f" * 1025})),
            ("format a number", _post(BATCH, {"filename": "a.csv", "format": 5})),
            ("limit not a number", _get(TEXT, {"limit": "abc"})),
            ("limit 0", _get(TEXT, {"limit": "0"})),
            ("limit 201", _get(TEXT, {"limit": "201"})),
            ("status unknown", _get(TEXT, {"status": "READY"})),
            (
                "results limit 1,001",
                lambda w: w.client.call("GET", f"/v1/tasks/{w.ready_task()}/results", query={"limit": "1001"}),
            ),
            (
                "purge not a boolean",
                lambda w: w.client.call("DELETE", f"/v1/tasks/{w.queued_task()}", query={"purge": "maybe"}),
            ),
        ],
        "throttled": [
            ("one over the burst", _over_the_rate),
            ("one over, while another tenant is under", _other_tenant_over_the_rate),
        ],
        "not-ready": [
            ("tasks table deleted", _tasks_table_gone),
            ("tasks table name unknown", _tasks_table_renamed(monkeypatch)),
        ],
    }


def _start_before_upload(w: World) -> ApiResponse:
    created = w.client.call("POST", BATCH, {"filename": "q.csv", "options": {"quote_only": True}}).json()
    return w.client.call("POST", f"/v1/tasks/{created['task']['task_id']}/start")


def _resume_before_upload(w: World) -> ApiResponse:
    created = w.client.call("POST", BATCH, {"filename": "r.csv"}).json()
    return w.client.call("POST", f"/v1/tasks/{created['task']['task_id']}/resume")


def _resume_with_the_month_spent(w: World) -> ApiResponse:
    BudgetRepository(w.stack.ref("BudgetsTable"), boto3.client("dynamodb")).set_monthly("acme", 0.0001)
    return w.client.call("POST", f"/v1/tasks/{w.paused_task()}/resume")


def _reuse(w: World, path: str, first: Any, second: Any, key: str = "order-4711") -> ApiResponse:
    assert w.client.call("POST", path, first, headers={"Idempotency-Key": key}).status in (201, 202)
    return w.client.call("POST", path, second, headers={"Idempotency-Key": key})


DOCUMENTED = documented_errors()


def test_the_readme_documents_errors_and_every_row_has_inputs(monkeypatch):
    # Given the documented error table, When its rows are read, Then each has several inputs here
    assert len(DOCUMENTED) >= 10, "the error table of docs/api.md was not found"
    inputs = cases(monkeypatch)
    assert set(inputs) == set(DOCUMENTED), set(inputs) ^ set(DOCUMENTED)
    assert all(len(found) >= 2 for found in inputs.values())


@pytest.mark.parametrize("code", sorted(DOCUMENTED))
def test_every_input_of_a_documented_class_gets_the_documented_answer(
    code, client, other_client, gateway, poller, stack, monkeypatch
):
    # Given a fresh stack and the inputs of one documented class
    world = World(client, other_client, gateway, poller, stack)
    wrong = []
    for name, case in cases(monkeypatch).get(code, []):
        # When each is sent through API Gateway proxy events
        response = case(world)
        # Then the answer is the documented status and code, as problem+json, and never a 5xx
        body = response.json() if response.body else {}
        answered = (response.status, response.headers.get("content-type", "").split(";")[0], body.get("code"))
        if answered != (DOCUMENTED[code], PROBLEM, code) or body.get("status", response.status) != response.status:
            wrong.append((name, answered))
    assert not wrong, "\n".join(f"{name}: answered {answered}" for name, answered in wrong)


@pytest.mark.parametrize("key", ["k", "k" * 128, "A-Z_a.z:0-9"])
def test_idempotency_keys_at_the_edges_are_accepted(client, key):
    # Given keys of 1 and 128 allowed characters, When a task is created with one twice
    first = client.call("POST", TEXT, {"text": "Nice"}, headers={"Idempotency-Key": key})
    again = client.call("POST", TEXT, {"text": "Nice"}, headers={"Idempotency-Key": key})
    # Then both answer the same task
    assert first.status == again.status == 202
    assert first.json()["task_id"] == again.json()["task_id"]


def test_a_text_of_exactly_the_maximum_is_accepted(client):
    assert client.call("POST", TEXT, {"text": "x" * 5000}).status == 202
