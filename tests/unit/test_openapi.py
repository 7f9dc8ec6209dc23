"""The documented API and the deployed API are the same API."""

from __future__ import annotations

from pathlib import Path

from reviewpulse.api.openapi import openapi_document
from reviewpulse_tools.cli.openapi_export import render
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
