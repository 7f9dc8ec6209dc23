"""Every route × every scope over HTTP against `reviewpulse dev`: a key holding the route's scope
(from the one table, reviewpulse.api.scopes) gets 2xx; a key holding any other scope gets 403
insufficient-scope problem+json. The routes are the template's (api_routes), not a list kept here;
keys are made with the CLI (`keys create --local --scopes …`) and retired with `keys expire` and
`keys revoke`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from reviewpulse.api.routers import ROUTE_SCOPES
from reviewpulse.tenants.scopes import Scope
from reviewpulse_tools.local.apigateway import api_routes

from tests.local.test_local_stack import NEGATIVE, POSITIVE, run_cli, wait_until_done
from tests.local.test_quotes_http import wait_for

TENANT = "scope-matrix"
PROBLEM = "application/problem+json"


@dataclass
class Call:
    path: str
    body: Any = None
    query: dict[str, str] | None = None


def _key(local, *args: str) -> str:
    made = run_cli(local, "keys", "create", "--tenant", TENANT, "--local", *args)
    assert made.returncode == 0, made.stderr
    return made.stdout.strip()


@pytest.fixture(scope="module")
def keys(local) -> dict[Scope | str, httpx.Client]:
    """A full key (for setting things up) and one key per scope, all of one tenant of their own."""
    made = {"full": _key(local, "--name", "setup")}
    for scope in Scope:
        made[scope] = _key(local, "--scopes", scope.value, "--expires", "1d", "--name", f"only {scope.value}")
    clients = {
        name: httpx.Client(base_url=local["api_url"], headers={"X-Api-Key": key}, timeout=60)
        for name, key in made.items()
    }
    yield clients
    for client in clients.values():
        client.close()


def _ready_task(api: httpx.Client) -> str:
    task_id = api.post("/v1/tasks", json={"text": POSITIVE}).json()["task_id"]
    assert wait_until_done(api, task_id)["status"] == "ready"
    return task_id


def _quoted_batch(api: httpx.Client) -> str:
    created = api.post("/v1/batches", json={"filename": "q.txt", "options": {"quote_only": True}}).json()
    upload = created["upload"]
    sent = httpx.post(
        upload["url"], data=upload["fields"], files={"file": ("q.txt", f"{POSITIVE}\n{NEGATIVE}\n".encode())}
    )
    assert sent.status_code in (200, 204), sent.text
    task_id = created["task"]["task_id"]
    assert wait_for(api, task_id, "quoted")["status"] == "quoted"
    return task_id


def _paused_task(api: httpx.Client) -> str:
    options = {"engine": "llm", "max_cost_usd": 0.000001, "on_budget_exhausted": "pause"}
    created = api.post("/v1/tasks", json={"text": POSITIVE, "options": options})
    assert created.status_code == 202, created.text
    task_id = created.json()["task_id"]
    assert wait_for(api, task_id, "paused")["status"] == "paused"
    return task_id


def _webhook(api: httpx.Client) -> str:
    created = api.post("/v1/webhooks", json={"url": "https://hooks.example.com/scope-matrix"})
    assert created.status_code == 201, created.text
    return created.json()["webhook_id"]


# How to make a request a key with the route's scope gets 2xx for, by route: what it needs set up
# (by the full key) first. A route of the template without one here (one another branch adds) is
# still checked for its scope wall, with placeholder ids and an empty body.
RECIPES: dict[tuple[str, str], Callable[[httpx.Client], Call]] = {
    ("GET", "/v1/tasks"): lambda api: Call("/v1/tasks"),
    ("GET", "/v1/tasks/{task_id}"): lambda api: Call(f"/v1/tasks/{_ready_task(api)}"),
    ("GET", "/v1/tasks/{task_id}/results"): lambda api: Call(f"/v1/tasks/{_ready_task(api)}/results"),
    ("GET", "/v1/tasks/{task_id}/insights"): lambda api: Call(f"/v1/tasks/{_ready_task(api)}/insights"),
    ("POST", "/v1/tasks"): lambda api: Call("/v1/tasks", {"text": POSITIVE}),
    ("POST", "/v1/batches"): lambda api: Call("/v1/batches", {"filename": "m.csv"}),
    ("POST", "/v1/analyze"): lambda api: Call("/v1/analyze", {"texts": [POSITIVE, NEGATIVE]}),
    ("POST", "/v1/tasks/{task_id}/start"): lambda api: Call(f"/v1/tasks/{_quoted_batch(api)}/start"),
    ("POST", "/v1/tasks/{task_id}/resume"): lambda api: Call(
        f"/v1/tasks/{_paused_task(api)}/resume", {"max_cost_usd": 10.0}
    ),
    ("DELETE", "/v1/tasks/{task_id}"): lambda api: Call(f"/v1/tasks/{_ready_task(api)}", query={"purge": "true"}),
    ("POST", "/v1/webhooks"): lambda api: Call("/v1/webhooks", {"url": "https://hooks.example.com/matrix"}),
    ("GET", "/v1/webhooks"): lambda api: Call("/v1/webhooks"),
    ("DELETE", "/v1/webhooks/{webhook_id}"): lambda api: Call(f"/v1/webhooks/{_webhook(api)}"),
    # (Erases this test's own tenant: each recipe above makes what it needs afresh.)
    ("DELETE", "/v1/tenant/data"): lambda api: Call("/v1/tenant/data"),
}
KEYED_ROUTES = sorted((r.method, r.path) for r in api_routes() if r.authorized)


def _placeholder(path: str) -> str:
    return path.replace("{task_id}", "f" * 28).replace("{webhook_id}", "f" * 28)


def test_the_matrix_covers_every_keyed_route_of_the_template():
    assert KEYED_ROUTES and all(route in ROUTE_SCOPES for route in KEYED_ROUTES)
    # (Recipes of routes that no longer exist would hide a renamed route.)
    assert set(RECIPES) <= set(KEYED_ROUTES)


@pytest.mark.parametrize(("method", "path"), KEYED_ROUTES, ids=[f"{m} {p}" for m, p in KEYED_ROUTES])
def test_every_route_answers_each_scope_as_the_table_says(keys, method, path):
    needed = ROUTE_SCOPES[(method, path)]
    recipe = RECIPES.get((method, path))
    for scope in Scope:
        client = keys[scope]
        if scope == needed:
            # Given what the route needs, made by the full key, When a key holding its scope calls it
            call = recipe(keys["full"]) if recipe else Call(_placeholder(path), {} if method == "POST" else None)
            answer = client.request(method, call.path, json=call.body, params=call.query)
            # Then it is served (2xx; a route without a recipe: anything but the key's refusal)
            if recipe:
                assert 200 <= answer.status_code < 300, (scope, answer.status_code, answer.text)
            else:
                assert answer.status_code not in (401, 403), (scope, answer.text)
        else:
            # When a key holding another scope calls it, Then 403 insufficient-scope as problem+json
            answer = client.request(method, _placeholder(path), json={} if method == "POST" else None)
            assert answer.status_code == 403, (scope, answer.status_code, answer.text)
            assert answer.headers["content-type"].startswith(PROBLEM)
            assert answer.json()["code"] == "insufficient-scope"


def test_keys_list_expire_and_revoke_on_the_local_stack(local):
    # Given a named, scoped key of the tenant, working
    key = _key(local, "--scopes", "read", "--name", "to retire")
    with httpx.Client(base_url=local["api_url"], headers={"X-Api-Key": key}, timeout=60) as client:
        assert client.get("/v1/tasks").status_code == 200
    # When the tenant's keys are listed, Then its row shows id, state, scopes, expiry and name, never the key
    listed = run_cli(local, "keys", "list", "--tenant", TENANT, "--local")
    assert listed.returncode == 0 and key not in listed.stdout
    (row,) = [line.split("\t") for line in listed.stdout.splitlines() if line.endswith("\tto retire")]
    assert row[1:4] == ["active", "read", "-"]
    # When it is expired, then revoked, Then list says so each time
    expired = run_cli(local, "keys", "expire", "--tenant", TENANT, "--local", "--key-id", row[0])
    assert expired.returncode == 0, expired.stderr
    listed = run_cli(local, "keys", "list", "--tenant", TENANT, "--local").stdout
    assert f"{row[0]}\texpired\tread\t" in listed
    # (an expired key is still active underneath: revoke makes it final)
    revoked = run_cli(local, "keys", "revoke", "--tenant", TENANT, "--local", "--key-id", row[0])
    assert revoked.returncode == 0, revoked.stderr
    assert f"{row[0]}\trevoked\t" in run_cli(local, "keys", "list", "--tenant", TENANT, "--local").stdout
