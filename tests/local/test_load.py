"""The short load run: concurrent Locust users against the suite's local stack for a bounded time,
then the run's own pass criteria (tools/reviewpulse_tools/bench/load.py; `make soak` is the long
version): no 5xx, every 429 with Retry-After, every task terminal, every batch row exactly once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "reviewpulse_cli"]
# Kept short for `make test`: 20 users for 30 s after spawning (about 10 requests a second on the
# suite's stack, batches of 1 to 60 rows among them).
USERS, SECONDS, SPAWN_RATE = 20, 30, 10


@pytest.mark.load
def test_a_short_load_run_passes_its_criteria(local):
    # Given a tenant of its own (its own usage-plan bucket and task list, so the other tests'
    # listings are not the load's), on the suite's stack with its raised plan
    key = subprocess.run(
        [*CLI, "keys", "create", "--tenant", "load", "--local"],
        cwd=ROOT,
        env=local["env"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert key.returncode == 0, key.stderr

    # When concurrent users send the mix for a bounded time and the run checks what they made
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "reviewpulse_tools.bench.load",
            "--api-url",
            local["api_url"],
            "--api-key",
            key.stdout.strip(),
            "--users",
            str(USERS),
            "--seconds",
            str(SECONDS),
            "--spawn-rate",
            str(SPAWN_RATE),
            "--invocations",
            local["invocations"],
            "--aws-endpoint",
            local["aws_endpoint"],
            local["aws_dynamodb_endpoint"],
            # The suite's stack serves the other tests at the same time: the p99 is reported here,
            # held by `make soak` on a stack of its own.
            "--result-p99-ms",
            "0",
        ],
        cwd=ROOT,
        env=local["env"],
        capture_output=True,
        text=True,
        timeout=1200,
    )

    # Then the run passed every criterion (its report says which failed otherwise; `-s` shows it)
    print(run.stdout)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    assert "tasks created" in run.stdout
    # and it reported the functions' own durations from the stack's invocation records
    assert "GetTaskFunction" in run.stdout and "result retrieval p99:" in run.stdout
    # and moto's CPU by AWS action, the status polls' reads among it
    assert "AWS requests by action over the run" in run.stdout and "DynamoDB GetItem" in run.stdout
