"""The CLI's client over real HTTP to the local gateway (on the real handlers, under moto), with the
usage plan on a test clock that the client's waits advance: it rides out 429s by waiting as
Retry-After says (capped, jittered), retries writes only through 429s, decodes compressed pages,
and stops with the reason when the wait is a quota reset hours away."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from reviewpulse_cli.client import ApiClient, ApiError
from reviewpulse_tools.local.apigateway import ApiGateway, Quota, UsagePlanThrottle, serve
from reviewpulse_tools.local.stack import free_port


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC).timestamp()
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def serve_plan(runner, api_key, clock) -> Iterator:
    servers = []

    def start(plan: UsagePlanThrottle) -> ApiClient:
        server, thread = serve(ApiGateway(runner, throttle=plan), "127.0.0.1", free_port())
        servers.append((server, thread))
        return ApiClient(f"http://127.0.0.1:{server.server_port}", api_key, sleep=clock.sleep)

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_the_client_waits_out_throttling_and_its_writes_get_through(serve_plan, clock):
    # Given a usage plan of one request a second with a burst of 2
    api = serve_plan(UsagePlanThrottle(rate=1, burst=2, clock=clock))
    # When the client sends four requests back to back, two of them writes
    created = [api.create_text_task(f"Lovely shoes {n}")["task_id"] for n in range(2)]
    listed = api.tasks()
    fetched = api.task(created[0])
    # Then every one succeeds: the two over the burst were refused once each and retried
    assert {t["task_id"] for t in listed["items"]} == set(created) and fetched["task_id"] == created[0]
    # after waiting Retry-After (1 s) plus at most a quarter of it in jitter
    assert len(clock.waits) == 2 and all(1 <= wait <= 1.25 for wait in clock.waits)


def test_the_client_does_not_wait_hours_for_a_quota(serve_plan, clock):
    api = serve_plan(UsagePlanThrottle(rate=100, burst=100, clock=clock, quota=Quota(limit=1)))
    api.tasks()
    with pytest.raises(ApiError) as refused:
        api.tasks()
    # It stops at once with the reason, which says when the quota resets
    assert refused.value.code == "throttled"
    assert "2026-12-01T00:00:00Z" in str(refused.value)
    assert clock.waits == []


def test_the_client_reads_compressed_pages(serve_plan, clock, client, poller):
    from tests.integration.helpers import upload

    task_id = upload(client, "r.csv", ("text\n" + "lovely shoes and a great fit\n" * 200).encode())
    poller.drain()
    api = serve_plan(UsagePlanThrottle(rate=100, burst=100, clock=clock))
    # the client asks for gzip and inflates it: the caller sees the page as it is
    response = api._send("GET", f"/v1/tasks/{task_id}/results", params={"limit": "200"})
    assert response.headers["content-encoding"] == "gzip"
    assert len(response.json()["items"]) == 200
    assert len(api.results(task_id, limit=200)["items"]) == 200
