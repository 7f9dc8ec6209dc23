"""The documented API and the deployed API are the same API."""

from __future__ import annotations

from pathlib import Path

from reviewpulse.api.openapi import openapi_document
from reviewpulse_tools.dev.openapi_export import render
from reviewpulse_tools.local.apigateway import api_routes

ROOT = Path(__file__).resolve().parents[2]


def test_documented_routes_are_the_deployed_routes():
    # Given the routes template.yaml deploys and the routes the FastAPI apps document
    deployed = {(route.method, route.path) for route in api_routes()}
    documented = {
        (method.upper(), path) for path, operations in openapi_document()["paths"].items() for method in operations
    }
    # Then they are the same set
    assert documented == deployed


def test_routes_behind_the_authorizer_document_the_api_key():
    document = openapi_document()
    for route in api_routes():
        operation = document["paths"][route.path][route.method.lower()]
        assert bool(operation.get("security")) == route.authorized, route


def test_errors_are_documented_as_problem_json():
    for path, operations in openapi_document()["paths"].items():
        for method, operation in operations.items():
            errors = {code: r for code, r in operation["responses"].items() if code.startswith(("4", "5"))}
            assert errors, (method, path)
            assert all("application/problem+json" in r["content"] for r in errors.values()), (method, path)


def test_the_committed_document_is_current():
    assert (ROOT / "openapi.json").read_text() == render(), "run `make openapi`"


def gateway_statuses() -> dict[str, int]:
    """template.yaml's gateway responses: what API Gateway itself answers, by response type."""
    from reviewpulse_tools.local.template import read_sam_template

    api = read_sam_template()["Resources"]["ReviewPulseApi"]["Properties"]
    return {kind: spec["StatusCode"] for kind, spec in api["GatewayResponses"].items() if "StatusCode" in spec}


def test_operations_have_stable_ids_and_tags_for_generated_clients():
    # Given the document's operations
    operations = [op for ops in openapi_document()["paths"].values() for op in ops.values()]
    ids = [op["operationId"] for op in operations]
    # Then each has a unique camelCase id (not FastAPI's `create_task_v1_tasks_post`) and a declared tag
    assert len(set(ids)) == len(ids)
    assert all(op_id[0].islower() and "_" not in op_id for op_id in ids), ids
    declared = {tag["name"] for tag in openapi_document()["tags"]}
    assert all(op["tags"] and set(op["tags"]) <= declared for op in operations)
    # and the ones clients are built on keep their names
    assert {"createTask", "getTask", "listTasks", "deleteTask", "createBatch", "getResults", "getInsights"} <= set(ids)


def test_the_document_names_its_servers():
    servers = openapi_document()["servers"]
    assert any(s["url"].startswith("http://127.0.0.1") for s in servers)
    assert any("execute-api" in s["url"] for s in servers)


def test_each_route_documents_what_the_gateway_answers_for_it_and_only_that():
    # Given what the gateway answers on its own: 401, 403, 429 for keyed routes (template.yaml's
    # UNAUTHORIZED, ACCESS_DENIED, INVALID_API_KEY, THROTTLED, QUOTA_EXCEEDED), 502 for a failing
    # function on any route, 413 for a body too large on the routes that take one
    gateway = gateway_statuses()
    keyed = {gateway[k] for k in ("UNAUTHORIZED", "ACCESS_DENIED", "INVALID_API_KEY", "THROTTLED", "QUOTA_EXCEEDED")}
    document = openapi_document()
    for route in api_routes():
        operation = document["paths"][route.path][route.method.lower()]
        documented = {int(code) for code in operation["responses"] if code.startswith(("4", "5"))}
        # Then a keyed route documents them, and a route without a key does not
        assert (keyed <= documented) == route.authorized, route
        assert 502 in documented
        if route.method == "POST":
            assert gateway["REQUEST_TOO_LARGE"] in documented, route
        if route.authorized:
            assert "Retry-After" in operation["responses"]["429"]["headers"]


def test_health_documents_only_what_it_returns():
    # /health has no key, no parameters and no body: no 401, 403, 429 or 422
    responses = openapi_document()["paths"]["/health"]["get"]["responses"]
    assert set(responses) == {"200", "502", "503"}
