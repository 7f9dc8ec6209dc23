"""Load and soak: concurrent Locust users against the local stack (`make soak`; a short run in
tests/local/test_load.py), headless and bounded, with pass criteria checked by the run itself.

Each user does what a client does, in a mix: one text (`POST /v1/tasks`), `POST /v1/analyze`,
a batch of a few rows (create it, upload with the presigned POST, poll its status with
`If-None-Match` until it ends, read its results pages and insights), a status poll of a task it
made, and the task list. When the time is up the users stop and the run checks, then exits
non-zero if any fails:

- no 5xx answer (the API documents none for these routes under load; a 502 is a function that
  failed or timed out, and counts as a failure here);
- every 429 carries `Retry-After`;
- every task created (text tasks, batches uploaded, analyze answers that became tasks) reaches a
  terminal status within SETTLE_SECONDS after the load stops, and so does every other task in the
  tenant's list (one whose answer was lost) but batches whose upload was never sent;
- every batch counted each row exactly once: `progress.total` equals the rows uploaded,
  `processed + failed == total`, the summary's counts add up to `processed`, and its results
  pages hold each uploaded id exactly once.
- result retrieval p99 under --result-p99-ms (1,000 ms: GetResultsFunction's own p99, the seed's
  "sub-second result retrieval").

It prints p50/p95/p99 per route (Locust's statistics, end to end through the local gateway),
request counts, and answers by status; then each function's own durations over the same time
(the handler's time inside its execution environment, from the local stack's invocation records,
as Lambda's REPORT lines give it), with invocations, cold starts, the time invocations waited for a
free environment, CPU, and failures by type; "result retrieval p99", GetResultsFunction's own p99
(the seed's "sub-second result retrieval"), beside the route's end-to-end p99; and where the CPU
went over the load (load_cpu.py): the client, the stack's process, moto's, the environments, and
moto's CPU and wall time by AWS action (local/aws_census.py); and the backlog after the load:
each queue's depth every 15 s while the checks run, and when the last task ended (load_backlog.py).

`--faults` switches on the chaos of `make chaos` in the workers of the stack this run starts
(doubles/faults.py: analyzer environments dying mid-chunk, finalizers mid-merge, transient engine
failures, every SQS batch twice at the given share): `make soak` does; the criteria stay the same.

Locust users are gevent greenlets in this one process (Locust patches the standard library on
import), so the stack runs in a process of its own: started here (`reviewpulse dev` on free ports
with the usage plan raised, as tests/local_stack.py does) unless --api-url and --api-key name
a running one.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gevent
from locust import FastHttpUser, between, task
from locust.env import Environment
from reviewpulse_cli.local_state import ROOT
from urllib3 import encode_multipart_formdata

from reviewpulse_tools.bench import load_backlog, load_cpu
from reviewpulse_tools.bench.load_checks import SETTLE_SECONDS, TERMINAL, Ledger, check
from reviewpulse_tools.doubles.faults import FAULTS_VARIABLE
from reviewpulse_tools.local.lambda_ import Invocation, read_invocations

if TYPE_CHECKING:
    from locust.contrib.fasthttp import FastResponse

RESULTS_FUNCTION, RESULTS_ROUTE = "GetResultsFunction", "GET /v1/tasks/{id}/results"
BATCH_SIZES = (1, 3, 10, 25, 60)  # rows per uploaded batch, picked at random
POLL_SECONDS = 1.0
BATCH_WAIT_SECONDS = 120  # a user stops following its batch after this (the checks still do)
# The seed's "sub-second result retrieval": GetResultsFunction's own p99 must be under this
# (`--result-p99-ms`; the suite's short run on a shared stack does not hold it).
RESULT_RETRIEVAL_P99_MS = 1000.0
PLAN = ("ThrottleRateLimit=1000", "ThrottleBurstLimit=2000", "QuotaLimit=100000000")
# What a load run may set in the stack it starts (local/stack.py, local/lambda_.py): flag -> variable.
STACK_SETTINGS = {
    "analyzers": ("REVIEWPULSE_ANALYZE_CONCURRENCY", "the analyzer's pollers and environments"),
    "queue-pollers": ("REVIEWPULSE_QUEUE_POLLERS", "pollers of every other queue-triggered function"),
    "environments": ("REVIEWPULSE_LAMBDA_ENVIRONMENTS", "execution environments per function, at most"),
    "provisioned": (
        "REVIEWPULSE_PROVISIONED",
        "environments started ahead, as provisioned concurrency (Function=count,...; up to --environments)",
    ),
    "environment-niceness": (
        "REVIEWPULSE_ENVIRONMENT_NICENESS",
        "nice steps for every execution environment, so that moto and the gateway (AWS's own machines) come first",
    ),
}
FAULTS = "crash=0.02,transient=0.1,duplicate=0.2"  # --faults without a value (doubles/faults.py)
TEXTS = (
    "Battery lasts two days, love it",
    "Support never answered my emails",
    "It arrived on time and works as described",
    "Terrible, it broke after one day",
    "Not bad for the price, the strap feels cheap though",
    "Absolutely love it, works perfectly",
)


def _rows(n: int) -> tuple[list[str], bytes]:
    ids = [f"r{i}-{uuid.uuid4().hex[:8]}" for i in range(n)]
    lines = ["ref,review", *(f'{ref},"{random.choice(TEXTS)}"' for ref in ids)]  # noqa: S311 (not a secret)
    return ids, ("\n".join(lines) + "\n").encode()


def make_user(ledger: Ledger, api_key: str, wait: tuple[float, float]) -> type[FastHttpUser]:
    # FastHttpUser (geventhttpclient), not HttpUser (requests): a third of the client's CPU per
    # request, and the client shares this machine's cores with the stack it loads.
    class Client(FastHttpUser):
        wait_time = between(*wait)

        def on_start(self) -> None:
            self.mine: list[str] = []
            self.etags: dict[str, str] = {}

        def _call(self, method: str, path: str, name: str, **kwargs: Any) -> FastResponse:
            kwargs["headers"] = {"X-Api-Key": api_key, **kwargs.get("headers", {})}
            with self.client.request(method, path, name=name, catch_response=True, **kwargs) as response:
                ledger.statuses[(name, response.status_code)] += 1
                if response.status_code == 429 and "retry-after" not in response.headers:
                    ledger.throttled_without_retry_after[name] += 1
                if response.status_code >= 500 or response.status_code == 0:
                    response.failure(f"{response.status_code}")
                else:
                    # 4xx are the API's answers (429 is counted and checked above), not load failures.
                    response.success()
                return response

        def _created(self, response: FastResponse) -> dict | None:
            if response.status_code in (200, 201, 202):
                body = response.json()
                task_id = (body.get("task") or body).get("task_id")
                if task_id:
                    ledger.tasks.add(task_id)
                    self.mine.append(task_id)
                return body
            return None

        @task(4)
        def one_text(self) -> None:
            self._created(
                self._call("POST", "/v1/tasks", "POST /v1/tasks", json={"text": random.choice(TEXTS)})  # noqa: S311
            )

        @task(3)
        def analyze(self) -> None:
            texts = random.sample(TEXTS, random.randint(1, len(TEXTS)))  # noqa: S311
            response = self._call("POST", "/v1/analyze", "POST /v1/analyze", json={"texts": texts})
            if response.status_code == 202:  # llm/auto only; kept for completeness
                self._created(response)

        @task(4)
        def poll(self) -> None:
            if self.mine:
                self._status(random.choice(self.mine))  # noqa: S311

        @task(2)
        def listing(self) -> None:
            self._call("GET", "/v1/tasks", "GET /v1/tasks", params={"limit": 20})

        @task(2)
        def batch(self) -> None:
            size = random.choice(BATCH_SIZES)  # noqa: S311
            created = self._created(
                self._call(
                    "POST",
                    "/v1/batches",
                    "POST /v1/batches",
                    json={"filename": "load.csv", "text_field": "review", "id_field": "ref"},
                )
            )
            if not created:
                return
            task_id, upload = created["task"]["task_id"], created["upload"]
            ledger.not_uploaded.add(task_id)  # until its upload succeeds (a user may stop before)
            ids, content = _rows(size)
            # The policy's fields first, the file last, as S3's POST form requires.
            form, content_type = encode_multipart_formdata({**upload["fields"], "file": ("load.csv", content)})
            with self.client.request(
                "POST",
                upload["url"],  # S3's, not the API's: no API key
                name="POST presigned upload (S3)",
                data=form,
                headers={"Content-Type": content_type},
                catch_response=True,
            ) as response:
                ledger.statuses[("POST presigned upload (S3)", response.status_code)] += 1
                if response.status_code not in (200, 204):
                    response.failure(f"{response.status_code}")
                    return
            ledger.batches[task_id] = ids
            ledger.not_uploaded.discard(task_id)
            deadline = time.monotonic() + BATCH_WAIT_SECONDS
            status = None
            while time.monotonic() < deadline:
                status = self._status(task_id)
                if status in TERMINAL:
                    break
                gevent.sleep(POLL_SECONDS)
            if status == "ready":
                self._results(task_id)
                self._call("GET", f"/v1/tasks/{task_id}/insights", "GET /v1/tasks/{id}/insights")

        def _status(self, task_id: str) -> str | None:
            headers = {"If-None-Match": self.etags[task_id]} if task_id in self.etags else {}
            response = self._call("GET", f"/v1/tasks/{task_id}", "GET /v1/tasks/{id}", headers=headers)
            if response.status_code == 200:
                if "etag" in response.headers:
                    self.etags[task_id] = response.headers["etag"]
                return response.json()["status"]
            return None  # 304: unchanged (and the caller polls again), or a 4xx/5xx counted above

        def _results(self, task_id: str) -> None:
            params: dict[str, Any] = {"limit": 20}
            for _ in range(3):  # a few pages, as a client reading a screenful at a time
                response = self._call(
                    "GET", f"/v1/tasks/{task_id}/results", "GET /v1/tasks/{id}/results", params=params
                )
                cursor = response.json().get("next_cursor") if response.status_code == 200 else None
                if not cursor:
                    return
                params = {"limit": 20, "cursor": cursor}

    return Client


def table(environment: Environment, ledger: Ledger) -> str:
    lines = [f"{'route':<34} {'requests':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7}  answers"]
    for entry in sorted(environment.stats.entries.values(), key=lambda e: e.name):
        answers = ", ".join(
            f"{status}: {n}" for (name, status), n in sorted(ledger.statuses.items()) if name == entry.name
        )
        lines.append(
            f"{entry.name:<34} {entry.num_requests:>8} {entry.get_response_time_percentile(0.5):>7.0f} "
            f"{entry.get_response_time_percentile(0.95):>7.0f} {entry.get_response_time_percentile(0.99):>7.0f} "
            f"{entry.max_response_time:>7.0f}  {answers}"
        )
    total = environment.stats.total
    lines.append(
        f"{'all':<34} {total.num_requests:>8} {total.get_response_time_percentile(0.5):>7.0f} "
        f"{total.get_response_time_percentile(0.95):>7.0f} {total.get_response_time_percentile(0.99):>7.0f} "
        f"{total.max_response_time:>7.0f}  {total.total_rps:.1f} requests/s"
    )
    return "\n".join(lines)


def _percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (as Locust and CloudWatch report them)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)] if ordered else float("nan")


def function_table(records: list[Invocation]) -> str:
    """Each function's own durations from the local stack's invocation records."""
    if not records:
        return "functions' own durations: no invocation records (a stack without them, or none in the run)"
    by_function: dict[str, list[Invocation]] = {}
    for record in records:
        by_function.setdefault(record.function, []).append(record)
    lines = [
        "functions' own durations (inside the execution environment; waited: for a free environment or a cold start)",
        f"{'function':<30} {'calls':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7} {'cold':>5} "
        f"{'waited p99':>10} {'cpu mean':>8} {'cpu s':>6}  failures",
    ]
    for function, mine in sorted(by_function.items(), key=lambda kv: -len(kv[1])):
        durations = [r.duration_ms for r in mine]
        failures = Counter(r.outcome for r in mine if r.outcome != "ok")
        lines.append(
            f"{function:<30} {len(mine):>6} {_percentile(durations, 0.5):>7.0f} {_percentile(durations, 0.95):>7.0f} "
            f"{_percentile(durations, 0.99):>7.0f} {max(durations):>7.0f} {sum(r.cold for r in mine):>5} "
            f"{_percentile([r.waited_ms for r in mine], 0.99):>10.0f} "
            f"{sum(r.cpu_ms for r in mine) / len(mine):>8.0f} {sum(r.cpu_ms for r in mine) / 1000:>6.1f}  "
            + (", ".join(f"{name}: {n}" for name, n in sorted(failures.items())) or "-")
        )
    return "\n".join(lines)


def result_retrieval(environment: Environment, records: list[Invocation]) -> str:
    durations = [r.duration_ms for r in records if r.function == RESULTS_FUNCTION and r.outcome == "ok"]
    route = environment.stats.entries.get((RESULTS_ROUTE, "GET"))
    end_to_end = f"{route.get_response_time_percentile(0.99):.0f} ms" if route and route.num_requests else "no requests"
    own = f"{_percentile(durations, 0.99):.0f} ms over {len(durations)} calls" if durations else "no records"
    return f"result retrieval p99: {own} ({RESULTS_FUNCTION}'s own); {end_to_end} end to end ({RESULTS_ROUTE})"


def run_load(
    api_url: str,
    api_key: str,
    users: int,
    seconds: float,
    spawn_rate: float,
    wait: tuple[float, float] = (1.0, 3.0),
    settle_seconds: float = SETTLE_SECONDS,
    invocations: str | None = None,
    faults: str | None = None,
    stack_pid: int | None = None,
    aws_pid: int | None = None,
    dynamodb_pid: int | None = None,
    aws_endpoints: list[str] | None = None,
    result_p99_ms: float | None = None,
    stack_settings: dict[str, str] | None = None,
) -> tuple[str, list[str]]:
    """Run the users for `seconds` (after spawning them at `spawn_rate` a second), stop them, then
    check. `invocations`: the stack's invocation records (its state file says where), for the
    functions' own durations over the run; `stack_pid` and `aws_pid`, its processes, for where
    the CPU went (`dynamodb_pid`: its DynamoDB process). Returns the printed report and the problems found
    (none: pass)."""
    ledger = Ledger()
    began, load_before = time.time(), os.getloadavg()[0]
    environment = Environment(user_classes=[make_user(ledger, api_key, wait)], host=api_url)
    runner = environment.create_local_runner()
    started, cpu_before = time.monotonic(), load_cpu.sample(stack_pid, aws_pid, dynamodb_pid)
    aws_before = load_cpu.aws_requests(aws_endpoints) if aws_endpoints else None
    runner.start(users, spawn_rate=spawn_rate)
    gevent.sleep(users / spawn_rate + seconds)
    runner.quit()  # stops every user (a batch being followed included) and waits for them
    loaded, cpu_after = time.monotonic() - started, load_cpu.sample(stack_pid, aws_pid, dynamodb_pid)
    aws_after = load_cpu.aws_requests(aws_endpoints) if aws_endpoints else None
    settle_started, stopped = time.monotonic(), time.time()
    # The queues' depths from now until the checks end (the first endpoint is SQS's).
    backlog = (
        load_backlog.BacklogSampler(aws_endpoints[0], (stack_pid, aws_pid, dynamodb_pid)) if aws_endpoints else None
    )
    if backlog:
        backlog.start(settle_started)
    problems = check(api_url, api_key, ledger, settle_seconds)
    if backlog:
        backlog.stop()
    uploaded = sum(len(ids) for ids in ledger.batches.values())
    # The stack's records over this run (a shared stack's other callers may be among them).
    records = [r for r in read_invocations(invocations) if r.started >= began] if invocations else []
    own = [r.duration_ms for r in records if r.function == RESULTS_FUNCTION and r.outcome == "ok"]
    if result_p99_ms is not None and own and _percentile(own, 0.99) >= result_p99_ms:
        problems.append(f"result retrieval p99 {_percentile(own, 0.99):.0f} ms, not under {result_p99_ms:.0f} ms")
    report = "\n".join(
        [
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(began))}: {users} users (spawned at "
            f"{spawn_rate:g}/s, waiting {wait[0]:g}-{wait[1]:g} s between calls) for {loaded:.0f} s; faults in the "
            f"workers: {faults or 'none'}; {len(ledger.tasks)} tasks created, {len(ledger.batches)} batches "
            f"uploaded with {uploaded} rows; the checks ended {time.monotonic() - settle_started:.0f} s after the "
            f"load, {len(ledger.unfinished)} tasks not terminal within {settle_seconds:.0f} s; "
            + load_backlog.last_ended(ledger.final, stopped),
            f"1-minute load average at the start {load_before:.1f}; stack: "
            + (", ".join(f"{k}={v}" for k, v in sorted(stack_settings.items())) if stack_settings else "its defaults"),
            table(environment, ledger),
            function_table(records),
            result_retrieval(environment, records),
            load_cpu.budget(
                cpu_before,
                cpu_after,
                loaded,
                environment.stats.total.num_requests,
                [r for r in records if r.started <= began + loaded],
            ),
            load_cpu.aws_table(aws_before, aws_after),
            load_backlog.table(backlog.samples, records, stopped)
            if backlog
            else "backlog: not sampled (no --aws-endpoint)",
            "PASS" if not problems else "FAIL:\n  " + "\n  ".join(problems),
        ]
    )
    return report, problems


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def local_stack(faults: str | None = None, settings: dict[str, str] | None = None) -> Iterator[dict[str, Any]]:
    """`reviewpulse dev` in a process of its own on free ports, with the usage plan raised for load
    (the template's 20 requests a second would answer most of it with 429), and `faults` in its
    workers, and `settings` (STACK_SETTINGS' variables) in its environment; stopped with SIGTERM."""
    with tempfile.TemporaryDirectory() as folder:
        state_file = Path(folder) / "stack.json"
        env = {**os.environ, "REVIEWPULSE_STATE": str(state_file), **(settings or {})}
        env.pop(FAULTS_VARIABLE, None)
        if faults:
            env[FAULTS_VARIABLE] = faults
        for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "OPENAI_API_KEY", "OPENAI_BASE_URL", "DEFAULT_ENGINE"):
            env.pop(name, None)
        command = [sys.executable, "-m", "reviewpulse_cli", "dev", "--port", str(_free_port())]
        command += ["--aws-port", str(_free_port()), "--parameter-overrides", *PLAN]
        with (Path(folder) / "dev.log").open("w") as log:
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
            try:
                deadline = time.monotonic() + 300
                while not state_file.exists():
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(
                            f"the local stack did not start: {(Path(folder) / 'dev.log').read_text()[-2000:]}"
                        )
                    time.sleep(0.5)
                yield json.loads(state_file.read_text())
            finally:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=120)
                except subprocess.TimeoutExpired:
                    process.kill()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60, help="how long all users run, after spawning")
    parser.add_argument("--spawn-rate", type=float, default=20, help="users started a second")
    parser.add_argument("--wait", type=float, nargs=2, default=(1.0, 3.0), help="seconds between a user's calls")
    parser.add_argument("--settle-seconds", type=float, default=SETTLE_SECONDS)
    parser.add_argument(
        "--result-p99-ms",
        type=float,
        default=RESULT_RETRIEVAL_P99_MS,
        help="fail unless GetResultsFunction's own p99 is under this (0: do not check)",
    )
    parser.add_argument(
        "--faults",
        nargs="?",
        const=FAULTS,
        help=f"chaos in the workers of the stack this run starts (doubles/faults.py; bare: {FAULTS})",
    )
    for flag, (variable, what) in STACK_SETTINGS.items():
        kind = str if flag == "provisioned" else int
        parser.add_argument(f"--{flag}", type=kind, help=f"{what} in the stack this run starts ({variable})")
    parser.add_argument("--api-url", help="a running stack (default: start one)")
    parser.add_argument("--api-key")
    parser.add_argument("--invocations", help="a running stack's invocation records (its state file's `invocations`)")
    parser.add_argument("--stack-pid", type=int, help="a running stack's process (its state file's `pid`)")
    parser.add_argument("--aws-pid", type=int, help="a running stack's AWS process (its state file's `aws_pid`)")
    parser.add_argument(
        "--aws-endpoint",
        nargs="*",
        help="a running stack's AWS endpoints (its state file's `aws_endpoint`, `aws_dynamodb_endpoint`)",
    )
    parser.add_argument(
        "--aws-dynamodb-pid", type=int, help="a running stack's DynamoDB process (its state file's `aws_dynamodb_pid`)"
    )
    args = parser.parse_args(argv)
    settings = {v: str(getattr(args, f.replace("-", "_"))) for f, (v, _) in STACK_SETTINGS.items()}
    settings = {k: v for k, v in settings.items() if v != "None"}
    if args.api_url and (args.faults or settings):
        parser.error("--faults and the stack's settings apply to the stack this run starts, not to --api-url")
    kwargs = {
        "users": args.users,
        "seconds": args.seconds,
        "spawn_rate": args.spawn_rate,
        "wait": tuple(args.wait),
        "settle_seconds": args.settle_seconds,
        "result_p99_ms": args.result_p99_ms or None,
    }
    if args.api_url:
        report, problems = run_load(
            args.api_url.rstrip("/"),
            args.api_key,
            invocations=args.invocations,
            stack_pid=args.stack_pid,
            aws_pid=args.aws_pid,
            dynamodb_pid=args.aws_dynamodb_pid,
            aws_endpoints=args.aws_endpoint,
            **kwargs,
        )
    else:
        with local_stack(args.faults, settings) as state:
            report, problems = run_load(
                state["api_url"],
                state["api_key"],
                invocations=state.get("invocations"),
                faults=args.faults,
                stack_pid=state["pid"],
                aws_pid=state.get("aws_pid"),
                dynamodb_pid=state.get("aws_dynamodb_pid"),
                aws_endpoints=[e for e in (state.get("aws_endpoint"), state.get("aws_dynamodb_endpoint")) if e],
                stack_settings=settings,
                **kwargs,
            )
    print(report, flush=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
