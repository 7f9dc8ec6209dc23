"""Run the real handlers the way Lambda does: events in AWS's own shapes, a context object,
the function's environment from the template, SQS event source mappings with partial batch
responses, and API Gateway's REST proxy integration with its REQUEST authorizer.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import json
import logging
import multiprocessing
import os
import re
import signal
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

from reviewpulse.settings import get_settings

from reviewpulse_tools.provision import ProvisionedStack, QueueTrigger
from reviewpulse_tools.template import LOCAL_ACCOUNT, TEMPLATE_PATH, read_sam_template

LOCAL_API_ID = "localapi"
_log = logging.getLogger("reviewpulse.local")


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


class FunctionRunner:
    """Imports each function's app.py once, with its template environment, and invokes it.

    All functions share this interpreter, and with it the domain package's module state (the one
    Powertools Logger and its correlation id among it), so invocations run one at a time, on one
    thread with its own event loop (Mangum expects one, as Lambda's main thread has), whichever
    thread asks: an HTTP request, a queue poller or a test.
    """

    def __init__(
        self,
        stack: ProvisionedStack,
        extra_environment: dict[str, str] | None = None,
        function_environment: dict[str, dict[str, str]] | None = None,
    ) -> None:
        self.stack = stack
        self.extra_environment = {"POWERTOOLS_TRACE_DISABLED": "true", **(extra_environment or {})}
        # Per-function overrides, as in `sam local invoke --env-vars env.json`.
        self.function_environment = function_environment or {}
        self._modules: dict[str, ModuleType] = {}
        self._executor = ThreadPoolExecutor(
            max_workers=1,
            thread_name_prefix="lambda",
            initializer=lambda: asyncio.set_event_loop(asyncio.new_event_loop()),
        )
        self.invocations: dict[str, int] = {}
        self.current_function: str | None = None  # the function being invoked, if any

    def environment(self, function: str) -> dict[str, str]:
        return {
            **self.stack.function_environment(function),
            **self.extra_environment,
            **self.function_environment.get(function, {}),
        }

    def module(self, function: str) -> ModuleType:
        if function not in self._modules:
            self._enter_environment(function)
            path = self.stack.function_code_dir(function) / "app.py"
            spec = importlib.util.spec_from_file_location(f"reviewpulse_function_{function}", path)
            assert spec and spec.loader
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            self._modules[function] = module
        return self._modules[function]

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        return self._executor.submit(self._invoke, function, event).result()

    def _enter_environment(self, function: str) -> None:
        os.environ.update(self.environment(function))
        # Settings are read once per execution environment; here the functions share one
        # interpreter, so each invocation reads them again with its own function's variables.
        get_settings.cache_clear()

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _invoke(self, function: str, event: dict[str, Any]) -> Any:
        module = self.module(function)
        self._enter_environment(function)
        properties = self.stack.function_properties(function)
        context = LambdaContext(
            function_name=f"{self.stack.name}-{function}",
            memory_limit_in_mb=int(properties.get("MemorySize", 128)),
            timeout_seconds=int(properties.get("Timeout", 3)),
        )
        self.invocations[function] = self.invocations.get(function, 0) + 1
        self.current_function = function
        try:
            return module.handler(event, context)
        finally:
            self.current_function = None


class FunctionError(Exception):
    """A function failed, as Lambda reports it: an error type and message (and a timeout is one)."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type
        self.message = message


class ProcessFunctionRunner:
    """Runs each function in processes of its own, as Lambda runs each function in its own
    execution environments: separate module state, the function's own environment, and real
    concurrency across cores (`concurrency` environments per function, started on first use).

    The local stack uses it; the tests use FunctionRunner, since moto's in-process mock cannot
    be shared with other processes."""

    def __init__(
        self,
        stack: ProvisionedStack,
        extra_environment: dict[str, str] | None = None,
        function_environment: dict[str, dict[str, str]] | None = None,
        concurrency: dict[str, int] | None = None,
        output: str | None = None,
    ) -> None:
        self.stack = stack
        self.extra_environment = {"POWERTOOLS_TRACE_DISABLED": "true", **(extra_environment or {})}
        self.function_environment = function_environment or {}
        self.concurrency = concurrency or {}
        self.output = output  # a file for the functions' own output (logs, EMF metrics); None: ours
        self._pools: dict[str, ProcessPoolExecutor] = {}
        self._lock = threading.Lock()
        self.invocations: dict[str, int] = {}
        self.busy_seconds: dict[str, float] = {}
        self.api_calls: dict[str, dict[str, int]] = {}  # function → "service:Operation" → count

    environment = FunctionRunner.environment

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        timeout = int(self.stack.function_properties(function).get("Timeout", 3))
        try:
            future = self._pool(function).submit(_environment_invoke, event)
            outcome, calls, elapsed = future.result(timeout=timeout + 5)
        except BrokenProcessPool:
            # The environment died (out of memory, killed): the next invocation gets a new one.
            self._discard(function)
            raise FunctionError("Runtime.ExitError", "the execution environment exited") from None
        except FutureTimeout:
            self._discard(function)
            raise FunctionError("Sandbox.Timedout", f"Task timed out after {timeout}.00 seconds") from None
        with self._lock:
            self.invocations[function] = self.invocations.get(function, 0) + 1
            self.busy_seconds[function] = self.busy_seconds.get(function, 0.0) + elapsed
            counts = self.api_calls.setdefault(function, {})
            for name, count in calls.items():
                counts[name] = counts.get(name, 0) + count
        if "errorType" in outcome:
            raise FunctionError(outcome["errorType"], outcome["errorMessage"])
        return outcome["result"]

    def start_environments(self, functions: list[str], timeout: float = 300) -> dict[str, str]:
        """Start every function's execution environments now, in parallel, and wait until each
        function has one ready (as provisioned concurrency does). Started lazily, a cold start
        (a fresh interpreter importing FastAPI, boto3, Powertools: seconds, and tens of seconds on
        a loaded machine) landed on a client's request. Returns the functions that failed to
        start and why; their next invocation tries again and fails as Lambda would."""
        warming = {}
        for function in functions:
            pool = self._pool(function)
            # Submitted together, before any environment is idle, so the pool spawns one process each.
            warming[function] = [pool.submit(_environment_ready) for _ in range(self.concurrency.get(function, 1))]
        deadline = time.monotonic() + timeout
        failed: dict[str, str] = {}
        for function, futures in warming.items():
            for future in futures:
                try:
                    future.result(timeout=max(0.0, deadline - time.monotonic()))
                except (BrokenProcessPool, FutureTimeout) as exc:
                    failed[function] = type(exc).__name__
                    self._discard(function)
                    break
        return failed

    def close(self) -> None:
        for pool in list(self._pools.values()):
            pool.shutdown(wait=True, cancel_futures=True)

    def _discard(self, function: str) -> None:
        with self._lock:
            pool = self._pools.pop(function, None)
        if pool is not None:
            for process in list(getattr(pool, "_processes", {}).values()):
                process.kill()
            pool.shutdown(wait=False, cancel_futures=True)

    def _pool(self, function: str) -> ProcessPoolExecutor:
        with self._lock:
            if function not in self._pools:
                properties = self.stack.function_properties(function)
                self._pools[function] = ProcessPoolExecutor(
                    max_workers=self.concurrency.get(function, 1),
                    # spawn, not fork: this process runs threads (moto, the gateway, pollers).
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_environment_start,
                    initargs=(
                        str(self.stack.function_code_dir(function) / "app.py"),
                        self.environment(function),
                        f"{self.stack.name}-{function}",
                        int(properties.get("MemorySize", 128)),
                        int(properties.get("Timeout", 3)),
                        self.output,
                    ),
                )
            return self._pools[function]


# State of one execution environment (a child process of ProcessFunctionRunner).
_environment: dict[str, Any] = {}


def _environment_start(
    app_path: str, environment: dict[str, str], name: str, memory: int, timeout: int, output: str | None
) -> None:
    # Ctrl-C is the stack's to handle; and an environment never outlives the stack.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    if output:
        with open(output, "ab") as sink:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
    os.environ.update(environment)
    asyncio.set_event_loop(asyncio.new_event_loop())
    from reviewpulse.aws import add_api_call_listener

    calls: dict[str, int] = {}

    def count(service: str, operation: str, params: dict[str, Any]) -> None:
        calls[f"{service}:{operation}"] = calls.get(f"{service}:{operation}", 0) + 1

    add_api_call_listener(count)
    spec = importlib.util.spec_from_file_location("app", app_path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    _environment.update(module=module, calls=calls, name=name, memory=memory, timeout=timeout)


def _environment_ready() -> int:
    """Nothing: the environment's initializer (the function's cold start) has run by now."""
    return os.getpid()


def _environment_invoke(event: dict[str, Any]) -> tuple[dict[str, Any], dict[str, int], float]:
    context = LambdaContext(
        function_name=_environment["name"],
        memory_limit_in_mb=_environment["memory"],
        timeout_seconds=_environment["timeout"],
    )
    calls = _environment["calls"]
    calls.clear()
    started = time.perf_counter()
    try:
        outcome: dict[str, Any] = {"result": _environment["module"].handler(event, context)}
    except Exception as exc:
        # What Lambda reports for an unhandled error; plain strings cross the process boundary.
        traceback.print_exc()
        outcome = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
    return outcome, dict(calls), time.perf_counter() - started


def _die_with_parent() -> None:
    """End this process when the stack's process is gone. (Not prctl's PDEATHSIG: it fires when the
    thread that started the process ends, and pools start processes from short-lived threads.)"""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


# -- SQS event source mappings -------------------------------------------------------------------


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str = "us-east-1") -> dict[str, Any]:
    """The event Lambda's SQS poller hands a function, from ReceiveMessage results."""
    records = []
    for message in messages:
        attributes = message.get("Attributes", {})
        records.append(
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": {
                    "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
                    "SentTimestamp": attributes.get("SentTimestamp", str(int(time.time() * 1000))),
                    "SenderId": attributes.get("SenderId", LOCAL_ACCOUNT),
                    "ApproximateFirstReceiveTimestamp": attributes.get(
                        "ApproximateFirstReceiveTimestamp", str(int(time.time() * 1000))
                    ),
                },
                "messageAttributes": {
                    name: {
                        "stringValue": value.get("StringValue"),
                        "binaryValue": value.get("BinaryValue"),
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": value.get("DataType", "String"),
                    }
                    for name, value in message.get("MessageAttributes", {}).items()
                },
                "md5OfBody": message.get(
                    "MD5OfBody", hashlib.md5(message["Body"].encode(), usedforsecurity=False).hexdigest()
                ),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
        )
    return {"Records": records}


class QueuePoller:
    """Feeds SQS-triggered functions from their queues as the event source mapping does: batches
    of the template's size, only reported failures left for redelivery (after the visibility
    timeout, shortened here by `retry_delay`), redrive to the DLQ by the queue's own policy."""

    def __init__(self, runner: FunctionRunner, sqs: Any, *, retry_delay: int | None = 0) -> None:
        self.runner = runner
        self.sqs = sqs
        self.retry_delay = retry_delay
        self.triggers = runner.stack.queue_triggers()
        self.failures = 0
        self.crashes: list[Exception] = []
        self._count_lock = threading.Lock()

    def receive(self, trigger: QueueTrigger, wait_seconds: int = 0) -> list[dict[str, Any]]:
        """Up to one batch of the trigger's queue, with every attribute the event needs."""
        return self.sqs.receive_message(
            QueueUrl=self.runner.stack.ref(trigger.queue),
            MaxNumberOfMessages=min(trigger.batch_size, 10),
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=wait_seconds,
        ).get("Messages", [])

    def poll_once(self, trigger: QueueTrigger, wait_seconds: int = 0) -> int:
        url = self.runner.stack.ref(trigger.queue)
        messages = self.receive(trigger, wait_seconds)
        if not messages:
            return 0
        event = sqs_event(messages, self.runner.stack.attribute(trigger.queue, "Arn"), self.runner.stack.region)
        try:
            result = self.runner.invoke(trigger.function, event) or {}
            failed_ids = {f.get("itemIdentifier") for f in result.get("batchItemFailures", [])}
            known = {m["MessageId"] for m in messages}
            if not trigger.report_failures and failed_ids:
                failed_ids = set()  # without ReportBatchItemFailures Lambda ignores the response
            elif failed_ids - known:
                failed_ids = known  # an unknown or empty identifier fails the whole batch
        except Exception as exc:
            # A crashed invocation leaves the whole batch for redelivery, as in Lambda.
            _log.warning("%s failed on a batch of %d: %s", trigger.function, len(messages), type(exc).__name__)
            with self._count_lock:
                self.crashes.append(exc)
            failed_ids = {m["MessageId"] for m in messages}
        done = [m for m in messages if m["MessageId"] not in failed_ids]
        for start in range(0, len(done), 10):
            self.sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done[start : start + 10])
                ],
            )
        for message in messages:
            if message["MessageId"] in failed_ids:
                with self._count_lock:
                    self.failures += 1
                if self.retry_delay is not None:  # None: wait out the queue's own visibility timeout
                    self.sqs.change_message_visibility(
                        QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=self.retry_delay
                    )
        return len(messages)

    def run(self, trigger: QueueTrigger, stop: threading.Event, wait_seconds: int = 1) -> None:
        """Long-poll one queue until `stop` is set, as an event source mapping does."""
        while not stop.is_set():
            try:
                self.poll_once(trigger, wait_seconds=wait_seconds)
            except Exception as exc:  # the endpoint went away or hiccuped: keep polling
                _log.warning("polling %s failed: %s", trigger.queue, exc)
                with self._count_lock:
                    self.crashes.append(exc)
                stop.wait(1)

    def drain(self, max_rounds: int = 200) -> int:
        """Poll every trigger until all their queues are empty. Returns messages handled."""
        handled = 0
        empty_rounds = 0
        for _ in range(max_rounds):
            round_handled = sum(self.poll_once(trigger) for trigger in self.triggers)
            if round_handled == 0:
                # A receive that found nothing may have just redriven a message to a dead-letter
                # queue polled earlier in the round: only a second empty round means drained.
                empty_rounds += 1
                if empty_rounds == 2:
                    return handled
                continue
            empty_rounds = 0
            handled += round_handled
        raise RuntimeError(f"queues did not drain; last crash: {self.crashes[-1:]!r}")


# -- EventBridge schedules -----------------------------------------------------------------------

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def schedules(template_path=TEMPLATE_PATH) -> list[tuple[str, int]]:
    """(function, period in seconds) for every rate(...) Schedule or ScheduleV2 event."""
    found = []
    for name, resource in read_sam_template(template_path)["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for event in resource["Properties"].get("Events", {}).values():
            if event["Type"] in ("Schedule", "ScheduleV2"):
                match = _RATE.match(event["Properties"].get("ScheduleExpression", ""))
                if match:
                    found.append((name, int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]))
    return found


def scheduled_event(function: str, region: str = "us-east-1") -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.scheduler",
        "account": LOCAL_ACCOUNT,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:scheduler:{region}:{LOCAL_ACCOUNT}:schedule/default/{function}"],
        "detail": "{}",
    }


def run_schedule(runner: Any, function: str, period: float, stop: threading.Event) -> None:
    """Invoke `function` every `period` seconds until `stop` is set, as EventBridge Scheduler does."""
    while not stop.wait(period):
        try:
            runner.invoke(function, scheduled_event(function, runner.stack.region))
        except Exception as exc:  # the next tick runs it again, as the schedule would
            _log.warning("scheduled run of %s failed: %s: %s", function, type(exc).__name__, exc)


# -- API Gateway (REST API, proxy integration) -----------------------------------------------------


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # with {parameters}
    function: str
    authorized: bool
    api_key_required: bool = False  # the usage plan must know the authorizer's usageIdentifierKey

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.path) + "$")


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def api_routes(template_path=TEMPLATE_PATH) -> list[Route]:
    """The routes the template deploys, with whether the default authorizer guards them."""
    sam = read_sam_template(template_path)
    default_authorizer, default_key_required = None, False
    for resource in sam["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Api":
            auth = resource["Properties"].get("Auth", {})
            default_authorizer = auth.get("DefaultAuthorizer")
            default_key_required = bool(auth.get("ApiKeyRequired", False))
    routes = []
    for name, resource in sam["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for event in resource["Properties"].get("Events", {}).values():
            if event["Type"] != "Api":
                continue
            props = event["Properties"]
            auth = props.get("Auth", {})
            authorizer = auth.get("Authorizer", default_authorizer)
            key_required = bool(auth.get("ApiKeyRequired", default_key_required))
            routes.append(
                Route(props["Method"].upper(), props["Path"], name, authorizer not in (None, "NONE"), key_required)
            )
    return routes


class UsagePlanThrottle:
    """A usage plan's throttle: a token bucket per API key (the authorizer's usageIdentifierKey)
    holding `burst` requests and refilled at `rate` a second, as API Gateway applies it. Written
    here because API Gateway's throttle is what it emulates; the clock is a parameter so tests
    need no timing."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key → (tokens, when counted)
        self._lock = threading.Lock()

    def admit(self, usage_key: str) -> bool:
        with self._lock:
            now = self.clock()
            tokens, then = self._buckets.get(usage_key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - then) * self.rate)
            admitted = tokens >= 1
            self._buckets[usage_key] = (tokens - 1 if admitted else tokens, now)
            return admitted


class ApiGateway:
    """Routes a request to its function as API Gateway does, running the authorizer first (and,
    given a `throttle`, the usage plan's per-key throttle after it)."""

    def __init__(
        self,
        runner: FunctionRunner,
        *,
        stage: str = "dev",
        authorizer_function: str = "AuthorizerFunction",
        throttle: UsagePlanThrottle | None = None,
    ) -> None:
        self.runner = runner
        self.stage = stage
        self.authorizer_function = authorizer_function
        self.throttle = throttle
        self.routes = api_routes()
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        body: str | bytes | None = None,
        source_ip: str = "127.0.0.1",
    ) -> ApiResponse:
        headers = dict(headers or {})
        method = method.upper()
        matched = [(route, route.pattern.match(path)) for route in self.routes]
        candidates = [(route, m) for route, m in matched if m]
        allowed = [(route, m) for route, m in candidates if route.method == method]
        if not allowed:
            # REST APIs answer an unknown route or method as MISSING_AUTHENTICATION_TOKEN, which the
            # template's gateway responses turn into 404 not-found.
            return _problem(404, "not-found", "no such route")
        route, match = allowed[0]
        request_id = str(uuid.uuid4())
        event = self._proxy_event(route, method, path, match.groupdict(), headers, query, body, request_id, source_ip)
        if route.authorized:
            decision = self._authorize(event)
            if decision in ("unauthorized", "denied", "failed"):
                status, code = {
                    "unauthorized": (401, "unauthorized"),
                    "denied": (403, "forbidden"),
                    "failed": (500, "internal-error"),
                }[decision]
                return _problem(status, code, "missing or invalid API key" if status == 401 else decision)
            context, usage_key = decision
            if route.api_key_required and not usage_key:
                return _problem(403, "forbidden", "the key is not in a usage plan (INVALID_API_KEY)")
            if self.throttle is not None and usage_key and not self.throttle.admit(usage_key):
                # THROTTLED, as the template's gateway response words it.
                return _problem(429, "throttled", "Request rate limit exceeded; retry later.")
            event["requestContext"]["authorizer"] = context
        try:
            result = self.runner.invoke(route.function, event)
        except Exception as exc:
            # A function error or timeout: API Gateway answers 502, through DEFAULT_5XX.
            _log.warning("%s failed: %s", route.function, getattr(exc, "error_type", type(exc).__name__))
            return _problem(502, "internal-error", "the function failed")
        response_headers = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
        for name, values in (result.get("multiValueHeaders") or {}).items():
            response_headers[name.lower()] = ", ".join(values)
        # Without binaryMediaTypes a REST API passes a base64 body on as the text it is.
        return ApiResponse(int(result["statusCode"]), response_headers, result.get("body") or "")

    def _authorize(self, event: dict[str, Any]) -> tuple[dict[str, Any], str | None] | str:
        """The context and usageIdentifierKey, or why not: unauthorized, denied or failed."""
        key = {k.lower(): v for k, v in event["headers"].items()}.get("x-api-key")
        if not key:
            return "unauthorized"  # no identity source: API Gateway answers 401 without calling it
        cached = self._cache.get(key)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        auth_event = {
            "type": "REQUEST",
            "methodArn": f"arn:aws:execute-api:{self.runner.stack.region}:{LOCAL_ACCOUNT}:{LOCAL_API_ID}/{self.stage}/{event['httpMethod']}{event['path']}",
            **{
                k: event[k]
                for k in (
                    "resource",
                    "path",
                    "httpMethod",
                    "headers",
                    "multiValueHeaders",
                    "queryStringParameters",
                    "multiValueQueryStringParameters",
                    "pathParameters",
                    "stageVariables",
                    "requestContext",
                )
            },
        }
        try:
            response = self.runner.invoke(self.authorizer_function, auth_event)
        except Exception as exc:
            # API Gateway answers 401 when the authorizer fails with "Unauthorized", 500 otherwise.
            return "unauthorized" if str(exc).endswith("Unauthorized") else "failed"
        statements = response.get("policyDocument", {}).get("Statement", [])
        if not any(s.get("Effect") == "Allow" for s in statements):
            return "denied"
        # API Gateway hands the context on with every value as a string.
        context = {k: str(v) for k, v in (response.get("context") or {}).items()}
        context["principalId"] = response.get("principalId")
        decision = (context, response.get("usageIdentifierKey"))
        self._cache[key] = (time.monotonic() + 300, decision)
        return decision

    def _proxy_event(
        self, route, method, path, path_parameters, headers, query, body, request_id, source_ip
    ) -> dict[str, Any]:
        if isinstance(body, bytes):
            # Without binaryMediaTypes API Gateway passes the body as text.
            body = body.decode("utf-8", errors="replace")
        now = datetime.now(UTC)
        return {
            "resource": route.path,
            "path": path,
            "httpMethod": method,
            "headers": headers or None,
            "multiValueHeaders": {k: [v] for k, v in headers.items()} or None,
            "queryStringParameters": dict(query) if query else None,
            "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
            "pathParameters": path_parameters or None,
            "stageVariables": None,
            "requestContext": {
                "resourceId": "local",
                "resourcePath": route.path,
                "httpMethod": method,
                "extendedRequestId": request_id,
                "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "path": f"/{self.stage}{path}",
                "accountId": LOCAL_ACCOUNT,
                "protocol": "HTTP/1.1",
                "stage": self.stage,
                "domainPrefix": LOCAL_API_ID,
                "requestTimeEpoch": int(now.timestamp() * 1000),
                "requestId": request_id,
                "identity": {"sourceIp": source_ip, "userAgent": headers.get("User-Agent", "")},
                "domainName": "localhost",
                "apiId": LOCAL_API_ID,
            },
            "body": body,
            "isBase64Encoded": False,
        }


def _problem(status: int, code: str, detail: str) -> ApiResponse:
    body = {
        "type": f"https://reviewpulse.dev/problems/{code}",
        "title": code.replace("-", " ").capitalize(),
        "status": status,
        "code": code,
        "detail": detail,
    }
    return ApiResponse(status, {"content-type": "application/problem+json"}, json.dumps(body))


__all__ = [
    "ApiGateway",
    "ApiResponse",
    "FunctionRunner",
    "LambdaContext",
    "QueuePoller",
    "UsagePlanThrottle",
    "Route",
    "api_routes",
    "sqs_event",
]
