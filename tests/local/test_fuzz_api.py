"""schemathesis against the API's own OpenAPI document, on the running local stack: generated
requests (valid and invalid) never get a server error, and every answer matches the documented
status codes, content types and schemas."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from reviewpulse_tools.local.apigateway import INTEGRATION_TIMEOUT_SECONDS
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

ROOT = Path(__file__).resolve().parents[2]
schema = schemathesis.openapi.from_path(ROOT / "openapi.json")
# The promises this test holds the API to. Not among them: schemathesis's expectation of 405
# for undeclared methods (a REST API answers those itself, 404 here, as API Gateway would).
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def fuzz_key(local) -> str:
    """A full-scope key of a tenant of its own: the fuzzer also calls DELETE /v1/tenant/data, which
    must erase only what the fuzzer made, never the data other tests of the stack rely on."""
    from tests.local.test_local_stack import run_cli

    made = run_cli(local, "keys", "create", "--tenant", "fuzzer", "--local", "--name", "schemathesis")
    assert made.returncode == 0, made.stderr
    return made.stdout.strip()


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_its_documented_promises(case, local, fuzz_key):
    # The client waits as long as API Gateway would for the function: its 29 s integration limit.
    case.call_and_validate(
        base_url=local["api_url"],
        headers={"X-Api-Key": fuzz_key},
        checks=CHECKS,
        timeout=INTEGRATION_TIMEOUT_SECONDS,
    )
