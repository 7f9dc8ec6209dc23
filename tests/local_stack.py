"""One `reviewpulse dev` for the whole session, in its own process on free ports: the tests in
tests/local and the packaging test that analyses against it share it (starting one costs tens of
CPU seconds). Its fixtures are registered in tests/conftest.py; under pytest-xdist every test that
uses it runs on one worker (the "local-stack" group there), so the session starts one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3
import httpx
import pytest
from reviewpulse_tools.local.apigateway import INTEGRATION_TIMEOUT_SECONDS
from reviewpulse_tools.local.stack import free_port

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "reviewpulse_cli"]
SUITE_RATE, SUITE_BURST = 1000, 2000


@pytest.fixture(scope="session")
def local(tmp_path_factory):
    """A running `reviewpulse dev` on free ports, with its own state file and the llm engine served
    by the local fake OpenAI-compatible server; stopped with SIGTERM."""
    state_file = tmp_path_factory.mktemp("local") / "stack.json"
    # Scheduled functions (the sweeper, the Batch API collector) every 3 s instead of minutes.
    env = {**os.environ, "REVIEWPULSE_STATE": str(state_file), "REVIEWPULSE_SCHEDULE_SECONDS": "3"}
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "OPENAI_API_KEY", "OPENAI_BASE_URL", "DEFAULT_ENGINE"):
        env.pop(name, None)
    log = (state_file.parent / "dev.log").open("w")
    process = subprocess.Popen(
        [
            *CLI,
            "dev",
            "--port",
            str(free_port()),
            "--aws-port",
            str(free_port()),
            "--fake-llm",
            # The usage plan stays on, with room for the whole suite on one key: the fuzz test
            # alone sends hundreds of requests as fast as the stack answers, over the template's
            # 20 a second. Throttling itself is tested on a plan of its own (test_wire_http.py).
            "--parameter-overrides",
            f"ThrottleRateLimit={SUITE_RATE}",
            f"ThrottleBurstLimit={SUITE_BURST}",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    # It is ready once every function's execution environment has started: a minute or more on a busy machine.
    deadline = time.monotonic() + 300
    while not state_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the local stack did not start: {(state_file.parent / 'dev.log').read_text()[-2000:]}")
        time.sleep(0.2)
    state = json.loads(state_file.read_text())
    state["env"] = env
    try:
        yield state
        # Then SIGTERM stops it cleanly and it removes its state file
        process.send_signal(signal.SIGTERM)
        # (Stopping waits for every execution environment to exit: slow on a busy machine.)
        assert process.wait(timeout=120) == 0
        assert not state_file.exists()
    finally:
        if process.poll() is None:
            process.kill()
        log.close()


@pytest.fixture(scope="session")
def api(local):
    with httpx.Client(
        base_url=local["api_url"], headers={"X-Api-Key": local["api_key"]}, timeout=INTEGRATION_TIMEOUT_SECONDS
    ) as client:
        yield client


@pytest.fixture(scope="session")
def aws(local):
    session = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name="us-east-1")
    return lambda service: session.client(service, endpoint_url=local["aws_endpoint"])
