"""Over HTTP against `reviewpulse dev` (issue 16): compressed pages that clients decode, 304 for an
unchanged task with no body and no coding, `fields`, and the usage plan's 429s — a burst refused
exactly beyond its size, and a quota that resets — on the template's plan (with the suite's
overrides) in the dev process, and on a plan with a test clock in front of the same functions."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import httpx
import pytest
from reviewpulse.aws import reset_clients
from reviewpulse_tools.local.apigateway import ApiGateway, Quota, UsagePlanThrottle, serve
from reviewpulse_tools.local.lambda_ import FunctionRunner
from reviewpulse_tools.local.provision import provision
from reviewpulse_tools.local.stack import LOCAL_CREDENTIALS, REGION, free_port

from tests.local.test_local_stack import POSITIVE, wait_until_done
from tests.local_stack import SUITE_BURST, SUITE_RATE


@pytest.fixture(scope="module")
def ready_task(api) -> str:
    created = api.post("/v1/batches", json={"filename": "w.csv", "id_field": "id"}).json()
    content = "id,text\n" + "".join(f"W{n},{POSITIVE} number {n}\n" for n in range(300))
    upload = created["upload"]
    sent = httpx.post(upload["url"], data=upload["fields"], files={"file": ("w.csv", content.encode())}, timeout=60)
    assert sent.status_code in (200, 204)
    task_id = created["task"]["task_id"]
    assert wait_until_done(api, task_id)["status"] == "ready"
    return task_id


def test_pages_come_compressed_and_decoded_and_unchanged_tasks_cost_no_body(local, api, ready_task):
    # Given the running stack's plan: the template's, with the suite's overrides (on by default)
    assert local["usage_plan"] == f"{SUITE_RATE} requests/s, burst {SUITE_BURST}, quota 1,000,000 a day per API key"
    path = f"/v1/tasks/{ready_task}/results"
    # When a page of 300 results is asked for in gzip, and without any coding
    zipped = api.get(path, params={"limit": 300}, headers={"Accept-Encoding": "gzip"})
    plain = api.get(path, params={"limit": 300}, headers={"Accept-Encoding": "identity"})
    # Then the gzip answer is a fraction of the bytes, and decodes to the same items
    assert zipped.headers["content-encoding"] == "gzip" and "content-encoding" not in plain.headers
    assert zipped.num_bytes_downloaded * 4 < plain.num_bytes_downloaded
    assert zipped.json()["items"] == plain.json()["items"]
    with httpx.stream(
        "GET",
        local["api_url"] + path,
        params={"limit": 300},
        headers={"X-Api-Key": local["api_key"], "Accept-Encoding": "gzip"},
    ) as raw:
        wire = b"".join(raw.iter_raw())
    assert gzip.decompress(wire).startswith(b'{"items":[')

    # When the task is asked for twice, the second time with its ETag
    first = api.get(f"/v1/tasks/{ready_task}", headers={"Accept-Encoding": "gzip"})
    again = api.get(
        f"/v1/tasks/{ready_task}", headers={"Accept-Encoding": "gzip", "If-None-Match": first.headers["etag"]}
    )
    # Then the second is 304 with no body, no coding and the same tag, and says not to store links
    assert again.status_code == 304 and again.content == b""
    assert "content-encoding" not in again.headers and again.headers["etag"] == first.headers["etag"]
    assert again.headers["cache-control"] == first.headers["cache-control"] == "no-store"

    # And fields keep only the named ones
    picked = api.get(path, params={"limit": 2, "fields": "id,label"}).json()["items"]
    assert [set(item) for item in picked] == [{"id", "label"}] * 2


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 30, 23, 0, tzinfo=UTC).timestamp()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def gateway_on_a_test_clock(local, monkeypatch) -> Iterator[tuple[str, Clock]]:
    """The local gateway's HTTP server with a usage plan on a test clock (burst 3 at 1 a second,
    5 requests a day), in front of the running stack's functions and AWS."""
    for name, value in {
        **LOCAL_CREDENTIALS,
        "AWS_ENDPOINT_URL": local["aws_endpoint"],
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    reset_clients()
    stack = provision(boto3.session.Session(region_name=REGION), stack_name=local["stack_name"], create=False)
    runner = FunctionRunner(stack)
    clock = Clock()
    plan = UsagePlanThrottle(rate=1, burst=3, clock=clock, quota=Quota(limit=5, period="DAY"))
    server, thread = serve(ApiGateway(runner, stage="local", throttle=plan), "127.0.0.1", free_port())
    try:
        yield f"http://127.0.0.1:{server.server_port}", clock
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        runner.close()
        reset_clients()


def test_a_burst_over_the_plan_is_refused_exactly_beyond_it_and_the_quota_resets(local, gateway_on_a_test_clock):
    url, clock = gateway_on_a_test_clock
    with httpx.Client(base_url=url, headers={"X-Api-Key": local["api_key"]}, timeout=30) as api:
        # When 5 requests come at one instant of a burst-3 plan
        burst = [api.get("/v1/tasks", params={"limit": 1}) for _ in range(5)]
        # Then exactly the 2 over the burst are refused: 429 throttled problem+json, Retry-After 1
        assert [r.status_code for r in burst] == [200, 200, 200, 429, 429]
        for refused in burst[3:]:
            assert refused.headers["content-type"] == "application/problem+json"
            assert refused.json()["code"] == "throttled" and refused.headers["retry-after"] == "1"
        # When the bucket has refilled, the day's quota (5) is used up by two more
        clock.now += 10
        assert [api.get("/v1/tasks").status_code for _ in range(3)] == [200, 200, 429]
        over = api.get("/v1/tasks")
        # Then the quota's 429 says when it resets: midnight UTC, 3,590 s away
        assert over.status_code == 429 and over.headers["retry-after"] == str(3600 - 10)
        assert "2026-12-01T00:00:00Z" in over.json()["detail"]
        # And past midnight it is whole again
        clock.now += 3600
        assert api.get("/v1/tasks").status_code == 200
