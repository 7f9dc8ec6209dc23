"""The load run's pass criteria fail when they should (tools/reviewpulse_tools/bench/load_checks.py).
In a subprocess: importing Locust patches the standard library for gevent, not for this suite."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import json, sys
    from reviewpulse_tools.bench.load_checks import Ledger, check_answers

    ledger = Ledger()
    for route, status in json.loads(sys.argv[1]):
        ledger.statuses[(route, status)] += 1
    for route in json.loads(sys.argv[2]):
        ledger.throttled_without_retry_after[route] += 1
    print(json.dumps(check_answers(ledger)))
    """
)


def problems(statuses: list, throttled_without_retry_after: list) -> list[str]:
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(statuses), json.dumps(throttled_without_retry_after)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.splitlines()[-1])


def test_answers_below_500_with_retry_after_on_each_429_pass():
    assert problems([["POST /v1/tasks", 202], ["GET /v1/tasks/{id}", 304], ["GET /v1/tasks", 429]], []) == []


def test_a_5xx_fails_the_run():
    found = problems([["POST /v1/tasks", 202], ["POST /v1/analyze", 502]], [])
    assert len(found) == 1 and "502" in found[0]


def test_a_429_without_retry_after_fails_the_run():
    found = problems([["GET /v1/tasks", 429]], ["GET /v1/tasks"])
    assert len(found) == 1 and "Retry-After" in found[0]
