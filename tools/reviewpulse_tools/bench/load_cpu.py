"""Where a load run's CPU goes (bench/load.py): the load client (this process, the Locust users),
the stack's own process (the gateway, the queue and stream pollers), its AWS process (moto, which
answers every AWS call) and its execution environments (the handlers, their cold starts and their
AWS SDK calls), sampled before and after
the load, with each function's handler CPU from the invocation records beside it.

CPU seconds, not wall time: on a shared machine wall time says how busy the others were, CPU time
what each request costs. An environment that exits during the run (a crash fault, a timeout)
takes its CPU with it, so the environments' figure is a floor.

psutil comes with Locust (its own dependency, for the same figures of its workers).
"""

from __future__ import annotations

import json
import os
import resource
import urllib.request
from dataclasses import dataclass

import psutil

from reviewpulse_tools.local.lambda_ import Invocation


@dataclass(frozen=True)
class CpuSample:
    client: float  # this process: the load client's users and checks
    stack: float | None  # the stack's process itself (None: no stack process known)
    aws: float | None  # its AWS process (moto: every service but DynamoDB), when the stack names it
    environments: dict[int, float]  # each execution environment (the stack's other descendants) by pid
    dynamodb: float | None = None  # its DynamoDB process (moto's DynamoDB: local/aws_process.py), when named


def _seconds(times: psutil._common.pcputimes | resource.struct_rusage) -> float:
    if isinstance(times, resource.struct_rusage):
        return times.ru_utime + times.ru_stime
    return times.user + times.system


def sample(stack_pid: int | None, aws_pid: int | None = None, dynamodb_pid: int | None = None) -> CpuSample:
    client = _seconds(resource.getrusage(resource.RUSAGE_SELF))
    if stack_pid is None:
        return CpuSample(client, None, None, {})
    try:
        stack = psutil.Process(stack_pid)
        own = _seconds(stack.cpu_times())
        descendants = stack.children(recursive=True)
    except psutil.Error:
        return CpuSample(client, None, None, {})
    aws, dynamodb, environments = None, None, {}
    for child in descendants:
        try:
            seconds = _seconds(child.cpu_times())
        except psutil.Error:  # it exited meanwhile
            continue
        if child.pid == aws_pid:
            aws = seconds
        elif child.pid == dynamodb_pid:
            dynamodb = seconds
        else:
            environments[child.pid] = seconds
    return CpuSample(client, own, aws, environments, dynamodb)


def budget(before: CpuSample, after: CpuSample, seconds: float, requests: int, records: list[Invocation]) -> str:
    """One paragraph: CPU seconds by part over the load, per API request, and as cores of this
    machine's (a process started during the load counts whole, its cold start included)."""
    handlers = sum(r.cpu_ms for r in records) / 1000
    client = after.client - before.client
    parts = [f"load client {client:.1f} s"]
    total = client
    if after.stack is not None and before.stack is not None:
        stack = after.stack - before.stack
        environments = sum(t - before.environments.get(pid, 0.0) for pid, t in after.environments.items())
        started = len(set(after.environments) - set(before.environments))
        if after.aws is not None and before.aws is not None:
            if after.dynamodb is not None and before.dynamodb is not None:
                dynamodb = after.dynamodb - before.dynamodb
                parts.append(
                    f"AWS processes (moto) {after.aws - before.aws + dynamodb:.1f} s ({dynamodb:.1f} s DynamoDB's)"
                )
                total += dynamodb
            else:
                parts.append(f"AWS process (moto) {after.aws - before.aws:.1f} s")
            total += after.aws - before.aws
        parts += [
            f"stack process (gateway, pollers{'' if after.aws is not None else ', moto'}) {stack:.1f} s",
            f"execution environments {environments:.1f} s ({handlers:.1f} s inside handlers; "
            f"{started} processes started during the load)",
        ]
        total += stack + environments
    else:
        parts.append(f"handlers {handlers:.1f} s (the stack's processes not measured: --api-url)")
        total += handlers
    per_request = f"{1000 * total / requests:.0f} ms of CPU per API request" if requests else "no requests"
    load = os.getloadavg()[0]
    return (
        f"CPU over the {seconds:.0f} s of load: {', '.join(parts)}; total {total:.1f} s = "
        f"{total / seconds:.2f} of this machine's {os.cpu_count()} cores; {per_request} "
        f"(workers' share included); 1-minute load average at the end {load:.1f}"
    )


def aws_requests(endpoints: list[str]) -> dict[str, list[float]] | None:
    """Each AWS action's requests, CPU and wall seconds so far, summed over the stack's AWS
    processes (local/aws_census.py); None when an endpoint does not say (not a local stack)."""
    from reviewpulse_tools.local.aws_census import CENSUS_PATH

    total: dict[str, list[float]] = {}
    for endpoint in endpoints:
        try:
            with urllib.request.urlopen(endpoint.rstrip("/") + CENSUS_PATH, timeout=30) as answer:  # noqa: S310 (the local stack's)
                actions = json.loads(answer.read())
        except (OSError, ValueError):
            return None
        for name, counts in actions.items():
            into = total.setdefault(name, [0, 0.0, 0.0])
            for i, value in enumerate(counts):
                into[i] += value
    return total


def aws_table(before: dict[str, list[float]] | None, after: dict[str, list[float]] | None, top: int = 12) -> str:
    """Where moto's CPU went over the run, by AWS action, the costliest first: requests, CPU and
    wall time per request (wall far above CPU: waiting, as for DynamoDB's one-at-a-time lock)."""
    if before is None or after is None:
        return "AWS requests by action: not known (a stack without the count, or not local)"
    rows = []
    for name, (requests, cpu, wall) in after.items():
        was = before.get(name, [0, 0.0, 0.0])
        n = requests - was[0]
        if n:
            rows.append((cpu - was[1], name, n, wall - was[2]))
    rows.sort(reverse=True)
    lines = [
        "AWS requests by action over the run (moto's processes; CPU: the request's own thread)",
        f"{'action':<34} {'requests':>8} {'cpu ms each':>11} {'wall ms each':>12} {'cpu s':>6}",
    ]
    for cpu, name, n, wall in rows[:top]:
        lines.append(f"{name:<34} {n:>8} {1000 * cpu / n:>11.1f} {1000 * wall / n:>12.0f} {cpu:>6.1f}")
    if len(rows) > top:
        lines.append(f"({len(rows) - top} more actions: {sum(r[0] for r in rows[top:]):.1f} s of CPU)")
    return "\n".join(lines)


__all__ = ["CpuSample", "aws_requests", "aws_table", "budget", "sample"]
