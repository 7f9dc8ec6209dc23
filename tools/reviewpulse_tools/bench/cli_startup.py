"""How fast the CLI answers (`make bench BENCH=cli`): `reviewpulse --help` and `reviewpulse status`
against a running local stack, each as a ratio to a bare interpreter (`python -c pass`) measured
in the same run, alternating, so that the machine's load weighs on all alike.

Goals: `--help` ≤ 3× the bare interpreter; `status` ≤ 3× plus the request's own time (the same
GET timed in-process, on a fresh connection as the CLI opens one).
"""

from __future__ import annotations

import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

RUNS = 11


def _wall(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True)  # noqa: S603 (our own interpreter)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{command[1:]} failed: {done.stderr.decode()[-500:]}")
    return elapsed


def _request(api_url: str, api_key: str, path: str) -> float:
    base = urlsplit(api_url)
    started = time.perf_counter()
    connection = http.client.HTTPConnection(base.hostname, base.port, timeout=30)
    connection.request("GET", path, headers={"X-Api-Key": api_key})
    answer = connection.getresponse()
    answer.read()
    connection.close()
    elapsed = time.perf_counter() - started
    if answer.status != 200:
        raise RuntimeError(f"GET {path} answered {answer.status}")
    return elapsed


def bench_cli(runs: int = RUNS) -> dict:
    from reviewpulse_tools.local.stack import free_port, start

    workdir = Path(tempfile.mkdtemp(prefix="reviewpulse-bench-cli-"))
    os.environ["REVIEWPULSE_STATE"] = str(workdir / "stack.json")
    running = start(api_port=free_port(), aws_port=free_port(), function_output=workdir / "functions.log")
    try:
        connection = http.client.HTTPConnection(urlsplit(running.api_url).hostname, urlsplit(running.api_url).port)
        connection.request(
            "POST",
            "/v1/tasks",
            body=b'{"text": "Fast answers, nice"}',
            headers={"X-Api-Key": running.api_key, "Content-Type": "application/json"},
        )
        import json

        task_id = json.loads(connection.getresponse().read())["task_id"]
        connection.close()
        env = {**os.environ}
        cli = str(Path(sys.executable).parent / "reviewpulse")
        commands = {
            "bare": lambda: _wall([sys.executable, "-c", "pass"], env),
            "help": lambda: _wall([cli, "--help"], env),
            "status": lambda: _wall([cli, "status", task_id], env),
            "request": lambda: _request(running.api_url, running.api_key, f"/v1/tasks/{task_id}"),
        }
        for measure in commands.values():  # warm the file cache and the functions
            measure()
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(runs):
            for name, measure in commands.items():
                times[name].append(measure())
    finally:
        running.stop()
    medians = {name: statistics.median(values) for name, values in times.items()}
    return {
        "runs": runs,
        "median_seconds": medians,
        "help_ratio": medians["help"] / medians["bare"],
        "status_ratio_without_request": (medians["status"] - medians["request"]) / medians["bare"],
    }


def report(figures: dict) -> str:
    m = figures["median_seconds"]
    return "\n".join(
        [
            f"**CLI start** (`make bench BENCH=cli`; median of {figures['runs']} runs each, alternating):",
            "",
            "| command | median | ratio to `python -c pass` | goal |",
            "|---|---|---|---|",
            f"| `python -c pass` | {m['bare'] * 1000:.0f} ms | 1× | |",
            f"| `reviewpulse --help` | {m['help'] * 1000:.0f} ms | {figures['help_ratio']:.2f}× | ≤ 3× |",
            f"| `reviewpulse status TASK_ID` | {m['status'] * 1000:.0f} ms "
            f"(of which the request {m['request'] * 1000:.0f} ms) | "
            f"{figures['status_ratio_without_request']:.2f}× without the request | ≤ 3× plus the request |",
        ]
    )
