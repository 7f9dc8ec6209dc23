"""How fast the CLI answers (`make bench BENCH=cli`): `reviewpulse --help` and `reviewpulse status`
against a running local stack, each as a ratio to a bare interpreter (`python -c pass`) measured
in the same run, alternating, so that the machine's load weighs on all alike.

Goals: `--help` ≤ 3× the bare interpreter; `status` ≤ 3× plus the request's own time (the same
GET timed in-process, on a fresh connection as the CLI opens one). Wall time is what a user
waits; on a machine shared with other jobs it is noisy, so each child's CPU time (user + system,
from getrusage) is reported beside it: a load that stretches every process alike leaves it be,
and it leaves out the server's side of the request.
"""

from __future__ import annotations

import http.client
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

RUNS = 11


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _run(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of `command`."""
    cpu, started = _children_cpu(), time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True)  # noqa: S603 (our own interpreter)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{command[1:]} failed: {done.stderr.decode()[-500:]}")
    return elapsed, _children_cpu() - cpu


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


def bench_cli(runs: int = RUNS, running=None) -> dict:
    from reviewpulse_tools.bench.stack import bench_stack

    # The CLI finds the stack by the state file REVIEWPULSE_STATE names (bench_stack sets it).
    with bench_stack(running) as running:
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
            "bare": lambda: _run([sys.executable, "-c", "pass"], env),
            "help": lambda: _run([cli, "--help"], env),
            "status": lambda: _run([cli, "status", task_id], env),
            "request": lambda: (_request(running.api_url, running.api_key, f"/v1/tasks/{task_id}"), 0.0),
        }
        for measure in commands.values():  # warm the file cache and the functions
            measure()
        wall: dict[str, list[float]] = {name: [] for name in commands}
        cpu: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(runs):
            for name, measure in commands.items():
                elapsed, used = measure()
                wall[name].append(elapsed)
                cpu[name].append(used)
    medians = {name: statistics.median(values) for name, values in wall.items()}
    cpu_medians = {name: statistics.median(values) for name, values in cpu.items() if name != "request"}
    return {
        "runs": runs,
        "load_average": os.getloadavg()[0],
        "median_seconds": medians,
        "median_cpu_seconds": cpu_medians,
        "help_ratio": medians["help"] / medians["bare"],
        "status_ratio_without_request": (medians["status"] - medians["request"]) / medians["bare"],
        "help_cpu_ratio": cpu_medians["help"] / cpu_medians["bare"],
        "status_cpu_ratio": cpu_medians["status"] / cpu_medians["bare"],
    }


def report(figures: dict) -> str:
    m, c = figures["median_seconds"], figures["median_cpu_seconds"]
    return "\n".join(
        [
            f"**CLI start** (`make bench BENCH=cli`; median of {figures['runs']} runs each, alternating; "
            f"load average {figures['load_average']:.1f}):",
            "",
            "| command | wall | ratio to `python -c pass` | CPU | CPU ratio | goal |",
            "|---|---|---|---|---|---|",
            f"| `python -c pass` | {m['bare'] * 1000:.0f} ms | 1× | {c['bare'] * 1000:.0f} ms | 1× | |",
            f"| `reviewpulse --help` | {m['help'] * 1000:.0f} ms | {figures['help_ratio']:.2f}× "
            f"| {c['help'] * 1000:.0f} ms | {figures['help_cpu_ratio']:.2f}× | ≤ 3× |",
            f"| `reviewpulse status TASK_ID` | {m['status'] * 1000:.0f} ms, the request {m['request'] * 1000:.0f} ms "
            f"| {figures['status_ratio_without_request']:.2f}× without the request "
            f"| {c['status'] * 1000:.0f} ms | {figures['status_cpu_ratio']:.2f}× | ≤ 3× plus the request |",
        ]
    )
