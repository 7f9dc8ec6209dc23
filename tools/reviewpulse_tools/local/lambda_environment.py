"""Inside one of the local stack's Lambda execution environments (a child process of
lambda_.ProcessFunctionRunner): its start (the function's environment, the AWS-call counter, the
handler's import, forked from a server that preloaded the heavy third-party modules), each
invocation with its wall time, CPU seconds, peak RSS and AWS calls, the requests AWS bills for
those calls, its record (Invocation) and the functions' standard output. Also the Lambda context
object handlers and Powertools read, which both runners give them.
"""

from __future__ import annotations

import asyncio
import importlib.util
import io
import json
import multiprocessing
import multiprocessing.context
import os
import signal
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from reviewpulse_cli.local_state import LOCAL_ACCOUNT

from reviewpulse_tools.doubles.faults import FAULTS_VARIABLE


@dataclass
class LambdaContext:
    """The attributes of the Lambda context object that handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int = 512
    timeout_seconds: int = 30
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = ""
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:{LOCAL_ACCOUNT}:function:{self.function_name}"
        self.log_group_name = self.log_group_name or f"/aws/lambda/{self.function_name}"
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


# Execution environments are forked from one server process that imported these first (the
# multiprocessing forkserver): each new environment then only imports the function's own code and
# the domain package (which read the function's environment variables at import), not FastAPI,
# boto3, Powertools and the OpenAI SDK again. A spawned interpreter importing them all cost about
# 1.2 s of CPU per cold start, and a load run's 40-odd cold starts competed with its requests for
# this machine's 2 cores; Lambda's cold starts run on machines of their own. Only third-party
# modules that read no environment variable at import: a preloaded module is shared by every
# function's environments.
PRELOADED_MODULES = [
    "boto3",
    "botocore.client",
    "pydantic",
    "fastapi",
    "starlette.applications",
    "mangum",
    "aws_lambda_powertools.logging",
    "aws_lambda_powertools.metrics",
    "aws_lambda_powertools.tracing",
    "aws_lambda_powertools.utilities.idempotency",
    "aws_lambda_powertools.utilities.parameters",
    "aws_lambda_powertools.utilities.batch",
    "openai",
]


@cache
def environment_context() -> multiprocessing.context.BaseContext:
    """forkserver, not fork: this process runs threads (moto, the gateway, pollers), and a fork of
    it could copy a lock some thread holds; the fork server is single-threaded."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOADED_MODULES)
    return context


@dataclass
class Invocation:
    """One invocation's record, as Lambda's REPORT line has it (and the time it waited here)."""

    function: str
    environment: int  # which execution environment ran it (its process id)
    started: float  # wall clock, seconds
    duration_ms: float  # the handler's own time, inside its environment
    waited_ms: float  # waiting for a free environment (the local cap) and its cold start, if any
    cold: bool
    outcome: str  # "ok", or the error type (Sandbox.Timedout, Runtime.ExitError, ...)
    # The handler's CPU time (every thread of its environment): what a load run's CPU budget
    # is made of, beside the stack's own (gateway, moto) and the load client's.
    cpu_ms: float = 0.0


def read_invocations(path: str | Path) -> list[Invocation]:
    """The records a runner kept (`records`), for reports."""
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return []
    return [Invocation(**json.loads(line)) for line in lines if line.strip()]


# State of one execution environment (a child process of ProcessFunctionRunner).
_environment: dict[str, Any] = {}


# On AWS, DynamoDB, SQS and S3 do not share a function's CPU; here moto, the gateway and the
# pollers share this machine's cores with every execution environment. A load run that fills the
# cores lowers the environments' priority by this many nice steps (`bench/load.py
# --environment-niceness`), so that the emulated services answer as promptly as their own
# machines would while the functions queue for CPU, as they would queue for concurrency.
NICENESS_VARIABLE = "REVIEWPULSE_ENVIRONMENT_NICENESS"


def _environment_start(
    app_path: str, environment: dict[str, str], name: str, memory: int, timeout: int, output: str | None
) -> None:
    # Ctrl-C is the stack's to handle; and an environment never outlives the stack.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    if niceness := int(environment.get(NICENESS_VARIABLE) or 0):
        os.nice(niceness)
    if output:
        with open(output, "ab") as sink:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
    os.environ.clear()  # forked from the fork server: its variables are those of when it started
    os.environ.update(environment)
    sys.stdout = ConciseMetrics(sys.stdout, name.rsplit("-", 1)[-1], os.environ.get(METRICS_MODE_VARIABLE, "line"))
    asyncio.set_event_loop(asyncio.new_event_loop())
    from reviewpulse.aws import add_api_call_listener

    calls: dict[str, int] = {}

    def count(service: str, operation: str, params: dict[str, Any]) -> None:
        calls[f"{service}:{operation}"] = calls.get(f"{service}:{operation}", 0) + 1
        units = f"{service}:{operation}{UNITS_SUFFIX}"
        calls[units] = calls.get(units, 0) + billed_units(service, operation, params)

    add_api_call_listener(count)
    spec = importlib.util.spec_from_file_location("app", app_path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if os.environ.get(FAULTS_VARIABLE):
        # A load run's injected faults (doubles/faults.py): never set in a deployed function.
        from reviewpulse_tools.doubles.faults import install

        install(name.rsplit("-", 1)[-1], module, os.environ[FAULTS_VARIABLE])
    _environment.update(module=module, calls=calls, name=name, memory=memory, timeout=timeout)


UNITS_SUFFIX = "#units"
_SQS_CHUNK = 64 * 1024
_DYNAMODB_ITEMS = {"BatchWriteItem": "RequestItems", "BatchGetItem": "RequestItems"}


def billed_units(service: str, operation: str, params: dict[str, Any]) -> int:
    """How many requests AWS bills for one API call: SQS a request per 64 KiB of payload (a batch's
    messages together), EventBridge an event per entry, DynamoDB's batch and transaction calls per
    item (a transaction's twice); everything else one. Item sizes (DynamoDB capacity units per
    item) are the cost model's to apply: a call does not say how large the stored item is."""
    if service == "sqs" and operation in ("SendMessage", "SendMessageBatch"):
        bodies = [params.get("MessageBody", "")] + [e.get("MessageBody", "") for e in params.get("Entries", [])]
        size = sum(len(str(body).encode()) for body in bodies)
        return max(1, -(-size // _SQS_CHUNK))
    if service == "events" and operation == "PutEvents":
        return max(1, len(params.get("Entries", [])))
    if service == "dynamodb" and operation in _DYNAMODB_ITEMS:
        requests = params.get(_DYNAMODB_ITEMS[operation], {})
        return max(1, sum(len(v.get("Keys", [])) if isinstance(v, dict) else len(v) for v in requests.values()))
    if service == "dynamodb" and operation in ("TransactWriteItems", "TransactGetItems"):
        return 2 * max(1, len(params.get("TransactItems", [])))
    return 1


def _environment_ready() -> int:
    """Nothing: the environment's initializer (the function's cold start) has run by now."""
    return os.getpid()


def _environment_invoke(event: dict[str, Any]) -> tuple[dict[str, Any], dict[str, int], float, float, int]:
    """The outcome, the AWS calls made, and the invocation's wall seconds, CPU seconds (every
    thread of this process) and the environment's peak RSS so far (kB)."""
    context = LambdaContext(
        function_name=_environment["name"],
        memory_limit_in_mb=_environment["memory"],
        timeout_seconds=_environment["timeout"],
    )
    calls = _environment["calls"]
    calls.clear()
    started, cpu = time.perf_counter(), time.process_time()
    try:
        outcome: dict[str, Any] = {"result": _environment["module"].handler(event, context)}
    except Exception as exc:
        # What Lambda reports for an unhandled error; plain strings cross the process boundary.
        # An authorizer's "Unauthorized" is API Gateway's way to answer 401, not a failure: the
        # authorizer logs it in one line, no traceback here.
        if str(exc) != "Unauthorized":
            traceback.print_exc()
        outcome = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    return outcome, dict(calls), elapsed, cpu, _peak_rss_kb()


def _peak_rss_kb() -> int:
    """This process's peak resident set (VmHWM; not ru_maxrss, which Linux carries over from the
    parent across exec), 0 where /proc is not there."""
    try:
        with open("/proc/self/status") as status:
            return next((int(line.split()[1]) for line in status if line.startswith("VmHWM:")), 0)
    except OSError:
        return 0


METRICS_MODE_VARIABLE = "REVIEWPULSE_METRICS"  # line (the default), emf or off


class ConciseMetrics(io.TextIOBase):
    """The local stack's functions' standard output, with each CloudWatch embedded-metric-format
    blob Powertools prints turned into one line (`metrics CreateBatchFunction: TasksCreated=1`), or
    left out (`off`), or kept as JSON (`emf`, as Lambda's log has it)."""

    def __init__(self, target: Any, function: str, mode: str) -> None:
        super().__init__()
        self._target = target
        self._function = function
        self._mode = mode
        self._after_blob = False  # print() writes the newline apart: the blob's own is dropped with it

    def write(self, text: str) -> int:
        if self._after_blob and text == "\n":
            self._after_blob = False
            return len(text)
        self._after_blob = False
        if self._mode == "emf" or not text.startswith('{"_aws":'):
            return self._target.write(text)
        try:
            blob = json.loads(text)
            names = [m["Name"] for d in blob["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]]
        except (ValueError, KeyError, TypeError):
            return self._target.write(text)
        self._after_blob = not text.endswith("\n")
        if self._mode != "off":
            values = ", ".join(f"{name}={_metric_value(blob.get(name))}" for name in names)
            self._target.write(f"metrics {self._function}: {values}\n")
        return len(text)

    def flush(self) -> None:
        self._target.flush()

    def writable(self) -> bool:
        return True


def _metric_value(value: Any) -> str:
    values = value if isinstance(value, list) else [value]
    return "+".join(f"{v:g}" if isinstance(v, int | float) else str(v) for v in values)


def _die_with_parent() -> None:
    """End this process when the stack's process is gone. (Not prctl's PDEATHSIG: it fires when the
    thread that started the process ends, and pools start processes from short-lived threads.)"""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


__all__ = [
    "METRICS_MODE_VARIABLE",
    "PRELOADED_MODULES",
    "Invocation",
    "environment_context",
    "read_invocations",
    "UNITS_SUFFIX",
    "ConciseMetrics",
    "LambdaContext",
    "billed_units",
]
