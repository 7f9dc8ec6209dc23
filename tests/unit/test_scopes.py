"""Scoped, expiring keys: the one scope table held to the template's routes and to the committed
OpenAPI document, the scopes' names, and what the authorizer tells the functions about a key."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import boto3
import pytest
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
)
from moto import mock_aws
from reviewpulse.api.routers import ROUTE_SCOPES, required_scope
from reviewpulse.api.scopes import UndeclaredRoute
from reviewpulse.clock import now
from reviewpulse.tenants.authorizer import Denied, authorize
from reviewpulse.tenants.keys import KeyRepository, hash_api_key
from reviewpulse.tenants.scopes import ALL_SCOPES, Scope, parse_scopes, scopes_of_context, scopes_text
from reviewpulse_tools.local.apigateway import api_routes
from reviewpulse_tools.local.provision import provision

ROOT = Path(__file__).resolve().parents[2]


def test_every_deployed_route_has_exactly_one_line_in_the_scope_table():
    # Given the routes template.yaml deploys
    routes = api_routes()
    assert routes
    # Then the table names each of them and nothing else
    assert set(ROUTE_SCOPES) == {(route.method, route.path) for route in routes}
    # And a route is public in the table exactly when the template puts no authorizer in front of it
    for route in routes:
        assert (ROUTE_SCOPES[(route.method, route.path)] is None) == (not route.authorized), route


def test_the_scope_table_names_exactly_the_routes_the_routers_serve():
    # Given every route of api/routes (the routers the functions deploy and OpenAPI is made from)
    from reviewpulse.api.routers import ROUTERS

    served = {(method, route.path) for router in ROUTERS for route in router.routes for method in route.methods}
    assert served
    # Then the scope table has one line for each of them and none for a route no router serves
    assert set(ROUTE_SCOPES) == served


def test_the_committed_openapi_document_names_each_routes_scope():
    # Given the committed openapi.json (what clients and generated SDKs read)
    document = json.loads((ROOT / "openapi.json").read_text())
    # Then each keyed operation's security requirement names the table's scope, and only it
    for (method, path), scope in ROUTE_SCOPES.items():
        operation = document["paths"][path][method.lower()]
        if scope is None:
            assert not operation.get("security"), (method, path)
        else:
            assert operation["security"] == [{"APIKeyHeader": [scope.value]}], (method, path)


def test_a_route_missing_from_the_table_is_undeclared_not_public():
    with pytest.raises(UndeclaredRoute):
        required_scope("PATCH", "/v1/tasks/{task_id}")
    # And HEAD is answered as GET is
    assert required_scope("HEAD", "/v1/tasks") is Scope.READ


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["read"], {Scope.READ}),
        (["Read", " analyze "], {Scope.READ, Scope.ANALYZE}),
        (["admin", "admin"], {Scope.ADMIN}),
    ],
)
def test_scope_names_parse(names, expected):
    assert parse_scopes(names) == expected


@pytest.mark.parametrize("names", [[], [""], ["write"], ["read", "root"], ["*"]])
def test_unknown_or_no_scopes_are_refused(names):
    with pytest.raises(ValueError):
        parse_scopes(names)


@pytest.mark.parametrize(
    ("context_value", "expected"),
    [
        (None, ALL_SCOPES),  # an authorizer answer from before scopes: a key that could do everything
        ("read", {Scope.READ}),
        ("read admin", {Scope.READ, Scope.ADMIN}),
        ("", set()),  # fail closed on anything that does not parse
        ("superuser", set()),
        (42, set()),
    ],
)
def test_scopes_from_an_authorizer_context(context_value, expected):
    assert scopes_of_context(context_value) == expected


@pytest.fixture
def keys(translated_template):
    with mock_aws():
        local = provision(boto3.Session(), template=translated_template)
        yield KeyRepository(local.ref("KeysTable"), boto3.client("dynamodb"))


def authorizer_event(key: str) -> APIGatewayAuthorizerRequestEvent:
    return APIGatewayAuthorizerRequestEvent(
        {
            "type": "REQUEST",
            "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abc123/dev/GET/v1/tasks",
            "headers": {"X-Api-Key": key},
        }
    )


def test_the_authorizer_hands_a_keys_scopes_and_expiry_to_the_functions(keys):
    # Given a read-only key that expires in a day
    expires = now() + timedelta(days=1)
    key, record = keys.create("acme", "usage-acme", scopes=parse_scopes(["read"]), expires_at=expires, name="dash")
    # When the authorizer is asked about it
    answer = authorize(authorizer_event(key), keys)
    # Then its context names the tenant, the scope and the expiry, and never the key
    assert answer["context"]["tenant"] == "acme"
    assert answer["context"]["scopes"] == "read"
    assert answer["context"]["expires_at"] == expires.isoformat()
    assert key not in json.dumps(answer)
    # And `keys list` shows the name and scopes
    (listed,) = keys.for_tenant("acme")
    assert listed.name == "dash" and listed.scopes == {Scope.READ} and listed.state() == "active"


def test_a_key_stored_before_scopes_keeps_every_scope(keys):
    # Given a key record as it was stored before scopes existed (no scopes, expiry or name)
    key = "rp_" + "x" * 43
    boto3.client("dynamodb").put_item(
        TableName=keys._table,
        Item={
            "key_hash": {"S": hash_api_key(key)},
            "tenant": {"S": "acme"},
            "status": {"S": "active"},
            "created_at": {"S": "2026-01-01T00:00:00+00:00"},
        },
    )
    # When the authorizer is asked about it, Then it may do everything it could before
    answer = authorize(authorizer_event(key), keys)
    assert answer["context"]["scopes"] == scopes_text(ALL_SCOPES) == "read analyze admin"
    assert "expires_at" not in answer["context"]


def test_an_expired_key_is_refused_like_an_unknown_one(keys):
    # Given a key that was expired (by `keys expire`)
    key, record = keys.create("acme", "usage-acme")
    assert authorize(authorizer_event(key), keys)["context"]["tenant"] == "acme"
    assert keys.expire("acme", record.key_id) is not None
    # When the authorizer is asked about it, Then it answers Unauthorized (API Gateway: 401)
    with pytest.raises(Denied):
        authorize(authorizer_event(key), keys)
    assert keys.find(key).state() == "expired"


def test_a_key_needs_a_scope(keys):
    with pytest.raises(ValueError):
        keys.create("acme", "usage-acme", scopes=frozenset())


def test_a_route_whose_tenant_declares_no_scope_is_refused_to_every_key_and_kept_out_of_the_table():
    # Given a route that takes its tenant without declaring a scope
    from fastapi import APIRouter, Depends, Request
    from fastapi.security import SecurityScopes
    from reviewpulse.api.auth import caller_tenant
    from reviewpulse.api.scopes import route_scopes
    from reviewpulse.errors import InsufficientScope

    router = APIRouter()

    @router.get("/v1/forgotten")
    def forgotten(tenant: str = Depends(caller_tenant)) -> str:
        return tenant

    # Then the table cannot be built with it (make openapi and the drift tests fail)
    with pytest.raises(UndeclaredRoute):
        route_scopes([router])
    # And a key holding every scope is refused by it
    event = {"requestContext": {"authorizer": {"tenant": "acme", "scopes": scopes_text(ALL_SCOPES)}}}
    request = Request({"type": "http", "method": "GET", "path": "/v1/forgotten", "headers": [], "aws.event": event})
    with pytest.raises(InsufficientScope):
        asyncio.run(caller_tenant(request, SecurityScopes([]), None))
    # While the same key passes where the route declares its scope
    assert asyncio.run(caller_tenant(request, SecurityScopes([Scope.READ.value]), None)) == "acme"
