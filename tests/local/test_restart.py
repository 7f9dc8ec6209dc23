"""Stopping the local stack and starting it again at once, on the same ports: the stopped
stack's connections linger in TIME_WAIT for a minute, and the new one must start anyway, as its
servers (which bind with SO_REUSEADDR) can."""

from __future__ import annotations

import errno
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from reviewpulse_tools.local.apigateway import INTEGRATION_TIMEOUT_SECONDS
from reviewpulse_tools.local.stack import free_port

ROOT = Path(__file__).resolve().parents[2]
WARM = "HealthFunction,AuthorizerFunction,ListTasksFunction"


def start_stack(tmp_path: Path, api_port: int, aws_port: int) -> tuple[subprocess.Popen, dict]:
    state_file = tmp_path / "stack.json"
    # Only the functions this test calls start with it (the others would cost most of a minute of
    # CPU per start, and none of them runs here).
    env = {**os.environ, "REVIEWPULSE_STATE": str(state_file), "REVIEWPULSE_WARM": WARM}
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        env.pop(name, None)
    log = tmp_path / "dev.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "reviewpulse_cli", "dev", "--port", str(api_port), "--aws-port", str(aws_port)],
        cwd=ROOT,
        env=env,
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 300
    while not state_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the local stack did not start: {log.read_text()[-2000:]}")
        time.sleep(0.2)
    return process, json.loads(state_file.read_text())


def stop_stack(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        # (Stopping waits for every execution environment to exit: slow on a busy machine, as in conftest.)
        assert process.wait(timeout=120) == 0
    finally:
        if process.poll() is None:
            process.kill()


def answer_then_close(port: int, path: str) -> bytes:
    """One HTTP request, read until the server closes the connection (werkzeug closes it first)."""
    with socket.create_connection(("127.0.0.1", port), timeout=INTEGRATION_TIMEOUT_SECONDS) as connection:
        connection.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def plain_bind_refused(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            return exc.errno == errno.EADDRINUSE
    return False


def test_a_stack_restarted_at_once_on_the_same_ports_starts(tmp_path):
    # Given a stack that answered a request on each of its ports, closing the connection first
    # (which leaves that side in TIME_WAIT, on the server's port), and was then stopped
    api_port, aws_port = free_port(), free_port()
    process, state = start_stack(tmp_path, api_port, aws_port)
    try:
        assert answer_then_close(api_port, "/health").startswith(b"HTTP/1.1 200")
        assert answer_then_close(aws_port, "/moto-api/").startswith(b"HTTP/1.1 200")
    finally:
        stop_stack(process)
    assert plain_bind_refused(api_port) and plain_bind_refused(aws_port), "no TIME_WAIT left to test against"

    first_key = state["api_key"]

    # When it is started again at once on the same ports, with the same state folder
    process, state = start_stack(tmp_path, api_port, aws_port)
    try:
        # Then it answers there
        health = httpx.get(f"{state['api_url']}/health", timeout=INTEGRATION_TIMEOUT_SECONDS)
        assert state["api_url"].endswith(f":{api_port}") and health.json()["status"] == "ok"
        # And the API key of the first run still works (scripts and shells that hold it go on)
        assert state["api_key"] == first_key
        tasks = httpx.get(
            f"{state['api_url']}/v1/tasks", headers={"X-Api-Key": first_key}, timeout=INTEGRATION_TIMEOUT_SECONDS
        )
        assert tasks.status_code == 200
        # And the key is kept where only its owner can read it
        assert ((tmp_path / "api-key").stat().st_mode & 0o077) == 0
    finally:
        stop_stack(process)
