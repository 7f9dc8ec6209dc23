"""What API Gateway does to answers on the wire, through the local gateway on the real handlers:
compression above the template's MinimumCompressionSize, 304s passed on untouched, and the usage
plan's 429s with Retry-After (rate and quota), with a test clock."""

from __future__ import annotations

import gzip
import json
import zlib
from datetime import UTC, datetime

from reviewpulse_tools.local.apigateway import ApiGateway, Quota, UsagePlanThrottle

from tests.conftest import Client
from tests.integration.helpers import upload


def test_a_large_answer_is_compressed_as_the_client_asks_and_a_small_one_is_not(client, poller):
    # Given a ready task with a results page well over the template's 1 KiB threshold
    rows = "".join(f"R{n},lovely shoes and a great fit number {n}\n" for n in range(60))
    task_id = upload(client, "r.csv", f"id,text\n{rows}".encode(), id_field="id")
    poller.drain()
    path = f"/v1/tasks/{task_id}/results"
    plain = client.call("GET", path)
    assert plain.status == 200 and "content-encoding" not in plain.headers
    # When it is asked for with gzip, then with deflate preferred
    zipped = client.call("GET", path, headers={"Accept-Encoding": "gzip, deflate"})
    deflated = client.call("GET", path, headers={"Accept-Encoding": "deflate;q=1, gzip;q=0.5"})
    # Then each comes in that coding, decoding to the same page, in far fewer bytes
    assert zipped.headers["content-encoding"] == "gzip" and deflated.headers["content-encoding"] == "deflate"
    same = {k: v for k, v in plain.json().items() if k != "files"}  # (presigned links differ per call)
    assert {k: v for k, v in json.loads(gzip.decompress(zipped.wire)).items() if k != "files"} == same
    assert {k: v for k, v in json.loads(zlib.decompress(deflated.wire)).items() if k != "files"} == same
    assert len(zipped.wire) * 3 < len(plain.wire)
    # And an answer under the threshold, or a client preferring a coding API Gateway lacks, is not compressed
    tiny = client.call(
        "GET", "/v1/tasks", query={"limit": "1", "fields": "task_id"}, headers={"Accept-Encoding": "gzip"}
    )
    assert len(tiny.body.encode()) < 1024 and "content-encoding" not in tiny.headers
    brotli_first = client.call("GET", path, headers={"Accept-Encoding": "br, gzip;q=0.5"})
    assert "content-encoding" not in brotli_first.headers
    # And a 304 goes through with no body and no coding
    etag = plain.headers["etag"]
    not_modified = client.call("GET", path, headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert not_modified.status == 304 and not_modified.wire == b""
    assert "content-encoding" not in not_modified.headers


def test_without_minimum_compression_size_nothing_is_compressed(runner, api_key, client, poller):
    task_id = upload(client, "r.csv", ("text\n" + "lovely shoes\n" * 80).encode())
    poller.drain()
    uncompressed = Client(ApiGateway(runner, throttle=None, minimum_compression_size=None), api_key)
    answer = uncompressed.call("GET", f"/v1/tasks/{task_id}/results", headers={"Accept-Encoding": "gzip"})
    assert answer.status == 200 and "content-encoding" not in answer.headers


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 30, 23, 0, tzinfo=UTC).timestamp()

    def __call__(self) -> float:
        return self.now


def test_over_the_burst_and_over_the_quota_are_429_throttled_with_retry_after(runner, api_key):
    # Given the gateway with a usage plan of burst 3 (1 a second) and 5 requests a day, on a test clock
    clock = Clock()
    plan = UsagePlanThrottle(rate=1, burst=3, clock=clock, quota=Quota(limit=5, period="DAY"))
    client = Client(ApiGateway(runner, throttle=plan), api_key)
    # When 5 requests come at one instant
    burst = [client.call("GET", "/v1/tasks") for _ in range(5)]
    # Then exactly the 2 over the burst are refused: 429 throttled problem+json, Retry-After 1
    assert [a.status for a in burst] == [200, 200, 200, 429, 429]
    for refused in burst[3:]:
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == "throttled" and refused.headers["retry-after"] == "1"
    # When the bucket has refilled and the quota's last 2 are used
    clock.now += 10
    assert [client.call("GET", "/v1/tasks").status for _ in range(2)] == [200, 200]
    # Then the next is over the day's quota: refused until midnight UTC, an hour away
    over = client.call("GET", "/v1/tasks")
    assert over.status == 429 and over.json()["code"] == "throttled"
    assert int(over.headers["retry-after"]) == 3600 - 10
    # And after midnight the quota is whole again
    clock.now += 3600
    assert client.call("GET", "/v1/tasks").status == 200
