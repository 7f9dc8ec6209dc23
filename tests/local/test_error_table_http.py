"""The error table (docs/api.md, "Errors") over HTTP against the local stack (`reviewpulse dev` in its own
process): every documented error that one request can provoke, with no state set up first,
answers its documented status and code as problem+json. The inputs are the in-process table
test's; the local stack serves the LLM engine, so `engine-unavailable` cannot occur there."""

from __future__ import annotations

import json

import pytest

from tests.integration.test_error_table import DOCUMENTED, PROBLEM, Request, cases

# Answered the same by any deployment; engine-unavailable depends on one without an LLM key.
DEPLOYMENT_DEPENDENT = {"engine-unavailable"}
# Inputs whose answer depends on the deployment having no LLM: the local stack serves one (the fake).
NEEDS_NO_LLM = {
    ("batch-mode-unavailable", "text, auto without an LLM"),
    ("teach-unavailable", "batch, auto without an LLM"),
}


def single_requests() -> list[tuple[str, str, Request]]:
    found = []
    for code, inputs in cases(pytest.MonkeyPatch()).items():
        if code in DEPLOYMENT_DEPENDENT:
            continue
        found += [
            (code, name, case)
            for name, case in inputs
            if isinstance(case, Request) and _sendable(case) and (code, name) not in NEEDS_NO_LLM
        ]
    return found


def _sendable(case: Request) -> bool:
    """HTTP cannot carry a header value with surrounding whitespace (clients refuse to send one);
    the in-process test hands such values to API Gateway's event as they are."""
    return all(value == value.strip() for value in (case.headers or {}).values())


SINGLE_REQUESTS = single_requests()


def test_most_documented_codes_have_single_request_inputs():
    assert {code for code, _, _ in SINGLE_REQUESTS} >= {
        "invalid-cursor",
        "invalid-idempotency-key",
        "not-found",
        "too-large",
        "unsupported-format",
        "validation-error",
    }


@pytest.mark.parametrize(("code", "name", "case"), SINGLE_REQUESTS, ids=[f"{c}: {n}" for c, n, _ in SINGLE_REQUESTS])
def test_a_documented_error_over_http(api, code, name, case):
    # Given one request of a documented class, When it is sent over HTTP to the local stack
    # Header values as UTF-8 bytes: a client sends non-ASCII keys so, and httpx refuses str ones.
    headers = {"Content-Type": "application/json", **{k: v.encode() for k, v in (case.headers or {}).items()}}
    body = case.body if case.body is None or isinstance(case.body, str) else json.dumps(case.body)
    response = api.request(case.method, case.path, content=body, params=case.query, headers=headers)
    # Then it gets the documented status and code, as problem+json
    assert response.status_code == DOCUMENTED[code], response.text[:300]
    assert response.headers["content-type"].split(";")[0] == PROBLEM
    assert response.json()["code"] == code
