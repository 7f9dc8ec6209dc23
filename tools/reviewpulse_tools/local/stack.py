"""The whole suite on one machine: no AWS account, no container runtime.

- AWS is moto's server, a real HTTP endpoint, in two processes (DynamoDB's and the rest:
  aws_process.py); every boto3 client (the functions', the CLI's) reaches it through
  AWS_ENDPOINT_URL (and AWS_ENDPOINT_URL_DYNAMODB), so handler code has no local special cases.
- Tables, queues (with redrive policies) and the bucket (with its notifications) are created from
  template.yaml; function environments are resolved from it, with an optional env.json override
  in `sam local invoke --env-vars` format ({"Parameters": {...}, "<FunctionLogicalId>": {...}}).
- An HTTP gateway on 127.0.0.1:3000 routes each request to the template's function after running
  the authorizer, as API Gateway does; pollers feed each SQS-triggered function from its queue as
  the event source mapping does (template batch size, partial batch responses, the queue's own
  visibility timeout and redrive).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reviewpulse_cli.local_state import (
    DEFAULT_TENANT,
    LOCAL_CREDENTIALS,
    REGION,
    STACK_NAME,
    api_key_file,
    aws_environment,
    local_usage_key,
    read_state,
    state_file,
)

from reviewpulse_tools.doubles.faults import FAULTS_VARIABLE
from reviewpulse_tools.local.aws_process import AwsServer, free_port

__all__ = [
    "STACK_NAME",
    "REGION",
    "AwsServer",
    "free_port",
    "read_state",
    "state_file",
    "aws_environment",
    "local_usage_key",
    "start",
    "invoke",
]

DEFAULT_API_PORT = 3000
# The analyzer's queue pollers (and its environments): one per core up to 4 unless
# REVIEWPULSE_ANALYZE_CONCURRENCY says (a load run sets more: an analyzer chunk mostly waits on
# moto's answers, so more of them at once keep up with a busy queue on the same cores).
ANALYZE_CONCURRENCY = max(1, min(4, os.cpu_count() or 1))
ANALYZE_VARIABLE = "REVIEWPULSE_ANALYZE_CONCURRENCY"


def analyze_concurrency() -> int:
    return max(1, int(os.environ.get(ANALYZE_VARIABLE) or ANALYZE_CONCURRENCY))


# Every other queue-triggered function gets one poller unless REVIEWPULSE_QUEUE_POLLERS says: Lambda's
# event source mapping runs up to 1,000 at once, and a load run with one finalizer at a time
# (batch size 1, a few hundred ms each, mostly waiting on moto) leaves most tasks processing long
# after their chunks are done. More pollers than REVIEWPULSE_LAMBDA_ENVIRONMENTS wait for an
# environment. Finalizers may race: the task's conditional status change lets one win (finalize.py).
POLLERS_VARIABLE = "REVIEWPULSE_QUEUE_POLLERS"
# Each poller's long poll on an empty queue (Lambda's own mapping waits 20 s): moto answers as soon
# as a message comes, so a longer wait delays nothing, and each empty answer costs both processes CPU.
POLLER_WAIT_SECONDS = 5


def queue_pollers(function: str) -> int:
    if function == "AnalyzeChunkFunction":
        return analyze_concurrency()
    return max(1, int(os.environ.get(POLLERS_VARIABLE) or 1))


# Every invocation's record (function, duration, wait, cold start, outcome), one JSON line each,
# beside the state file: Lambda's REPORT lines, for load reports (bench/load.py). Emptied at start.
INVOCATIONS_FILE_NAME = "invocations.jsonl"
FAULTS_RETRY_SECONDS = 5
DEFAULT_AWS_PORT = 5005
# The functions whose first execution environment starts with the stack: all, or a comma-separated
# list of logical ids (see start()).
WARM_VARIABLE = "REVIEWPULSE_WARM"
# Webhook deliveries may go to this machine in the local stack only (tests run receivers here).
LOCAL_WEBHOOK_ADDRESSES = "127.0.0.0/8,::1/128"


# The LLM settings a developer's shell may give the local functions, over the template's values.
LLM_PASSTHROUGH = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "DEFAULT_ENGINE",
    "LLM_MODEL",
    "LLM_FALLBACK",
    "LLM_ITEMS_PER_REQUEST",
    "LLM_CONCURRENCY",
    "LLM_REQUESTS_PER_MINUTE",
)


def llm_environment() -> dict[str, str]:
    return {name: os.environ[name] for name in LLM_PASSTHROUGH if os.environ.get(name)}


# Execution environments started with the stack beyond the first, for the functions a load will
# keep busy: "GetTaskFunction=6,CreateTaskFunction=6" (each up to its cap), kept however long idle.
# It emulates provisioned concurrency, which a deployment facing bursts would configure: here a
# burst's cold starts (0.4 s of CPU each, seconds of wall time on a busy machine) otherwise land on
# its first requests, while every core is already busy with the requests themselves.
PROVISIONED_VARIABLE = "REVIEWPULSE_PROVISIONED"


def provisioned_environments(functions: list[str]) -> dict[str, int]:
    """REVIEWPULSE_PROVISIONED as {function: environments started ahead}."""
    wanted: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in os.environ.get(PROVISIONED_VARIABLE, "").split(","))):
        function, _, count = part.partition("=")
        if function.strip() not in functions or not count.strip().isdigit():
            raise UnknownFunction(
                f"{PROVISIONED_VARIABLE} takes Function=count pairs of the template's functions: {part!r}"
            )
        wanted[function.strip()] = int(count)
    return wanted


def warm_functions(functions: list[str]) -> list[str]:
    """Those of `functions` that REVIEWPULSE_WARM names (all when it is unset or "all")."""
    named = os.environ.get(WARM_VARIABLE, "all").strip()
    if named == "all":
        return functions
    wanted = {name.strip() for name in named.split(",") if name.strip()}
    unknown = wanted - set(functions)
    if unknown:
        raise UnknownFunction(f"{WARM_VARIABLE} names no function of the template: {', '.join(sorted(unknown))}")
    return [function for function in functions if function in wanted]


class StackNotRunning(RuntimeError):
    pass


class BadEnvFile(ValueError):
    pass


class UnknownFunction(ValueError):
    pass


def read_env_file(path: Path | None) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Global and per-function overrides from an env.json file, as `sam local` reads it."""
    if path is None:
        return {}, {}
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise BadEnvFile(f"cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise BadEnvFile(f"{path} is not JSON: {exc}") from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise BadEnvFile(f'{path} must map "Parameters" or function names to objects of variables')
    shared = {k: str(v) for k, v in (data.get("Parameters") or {}).items()}
    per_function = {
        name: {k: str(v) for k, v in values.items()} for name, values in data.items() if name != "Parameters"
    }
    return shared, per_function


@dataclass
class RunningStack:
    aws_endpoint: str
    api_url: str
    api_key: str
    tenant: str
    stack: Any
    runner: Any
    poller: Any
    gateway: Any = None
    dynamodb_endpoint: str = ""  # DynamoDB's own process (aws_process.py); aws_endpoint forwards to it
    _stop: threading.Event = field(default_factory=threading.Event)
    _closers: list[Any] = field(default_factory=list)
    _threads: list[threading.Thread] = field(default_factory=list)

    def describe(self) -> str:
        return (
            f"ReviewPulse local stack\n"
            f"  API          {self.api_url}   (as `sam local start-api`)\n"
            f"  API key      {self.api_key}   (tenant '{self.tenant}'; kept in {api_key_file()} for the next start)\n"
            f"  usage plan   {self.usage_plan()}\n"
            f"  AWS (moto)   {self.aws_endpoint}   (DynamoDB's own: {self.dynamodb_endpoint};"
            " data lives in their processes' memory)\n"
            f"               region {REGION}, access key {LOCAL_CREDENTIALS['AWS_ACCESS_KEY_ID']},"
            f" secret {LOCAL_CREDENTIALS['AWS_SECRET_ACCESS_KEY']}, bucket {self.stack.ref('DataBucket')}"
            f" (drops: incoming/{self.tenant}/<path>)\n"
            f"  state file   {state_file()}\n"
            f"Try: .venv/bin/reviewpulse analyze samples/reviews.csv    Stop: Ctrl-C"
        )

    def usage_plan(self) -> str:
        plan = getattr(self.gateway, "throttle", None)
        if plan is None:
            return "none (no throttling)"
        quota = f", quota {plan.quota.limit:,} a {plan.quota.period.lower()}" if plan.quota else ""
        return f"{plan.rate:g} requests/s, burst {plan.burst}{quota} per API key"

    def stop(self) -> None:
        self._stop.set()
        # The gateway first (no new requests), then the pollers, then the functions and moto.
        for close in self._closers:
            try:
                close()
            except Exception:  # shutting down: nothing left to protect
                logging.getLogger(__name__).debug("error while stopping", exc_info=True)
        for thread in self._threads:
            thread.join(timeout=5)
        state = read_state()
        if state is not None and state.get("api_url") == self.api_url:
            state_file().unlink(missing_ok=True)


def start(
    *,
    host: str = "127.0.0.1",
    api_port: int = DEFAULT_API_PORT,
    aws_port: int = DEFAULT_AWS_PORT,
    env_file: Path | None = None,
    function_log_level: str | None = None,
    function_output: Path | None = None,
    fake_llm: bool = False,
    parameter_overrides: dict[str, str] | None = None,
) -> RunningStack:
    """`parameter_overrides` set template parameters, as `sam deploy --parameter-overrides` does
    (e.g. the usage plan's ThrottleRateLimit, ThrottleBurstLimit, QuotaLimit, QuotaPeriod)."""
    import boto3
    from reviewpulse.tenants.keys import KeyRepository

    from reviewpulse_tools.local.apigateway import ApiGateway, serve
    from reviewpulse_tools.local.lambda_ import ProcessFunctionRunner
    from reviewpulse_tools.local.provision import provision
    from reviewpulse_tools.local.scheduler import run_schedule, schedules
    from reviewpulse_tools.local.sqs import QueuePoller
    from reviewpulse_tools.local.streams import StreamPoller, streams_client
    from reviewpulse_tools.local.template import check_parameter_overrides, load_template

    check_parameter_overrides(parameter_overrides or {})
    for port, flag in ((aws_port, "--aws-port"), (api_port, "--port")):
        if port and not _port_is_free(host, port):
            raise PortInUse(f"port {port} on {host} is in use (another local stack?): stop it or pass {flag}")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # No AWS account: nothing of the host's AWS configuration (profiles, endpoints) may leak in.
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        del os.environ[name]
    closers: list[Any] = []
    moto = AwsServer(host, aws_port)
    endpoint = f"http://{host}:{aws_port}"
    # DynamoDB answers from a process of its own (aws_process.py): its endpoint beside the general one.
    environment = {**aws_environment(endpoint), **moto.environment()}
    os.environ.update(environment)
    try:
        session = boto3.session.Session(region_name=REGION)
        template = load_template(region=REGION, overrides=parameter_overrides)
        stack = provision(session, stack_name=STACK_NAME, region=REGION, template=template)
        shared, per_function = read_env_file(env_file)
        llm = llm_environment()
        if fake_llm:
            from reviewpulse_tools.doubles.fake_openai import FakeOpenAI

            fake = FakeOpenAI(host=host)
            closers.append(fake.close)
            llm.update(OPENAI_API_KEY="local-fake-key", OPENAI_BASE_URL=fake.base_url)
        extra = {
            **environment,
            # Webhook receivers of local runs and tests listen on this machine: only the local
            # stack lets deliveries reach it (template.yaml never sets this).
            "WEBHOOK_ALLOWED_ADDRESSES": LOCAL_WEBHOOK_ADDRESSES,
            **llm,
            **({"POWERTOOLS_LOG_LEVEL": function_log_level} if function_log_level else {}),
            # Faults in the workers for load runs (doubles/faults.py); never set but by a developer.
            **({FAULTS_VARIABLE: os.environ[FAULTS_VARIABLE]} if os.environ.get(FAULTS_VARIABLE) else {}),
            **shared,
        }
        # Execution environments start one per function, more on demand up to the cap
        # (REVIEWPULSE_LAMBDA_ENVIRONMENTS, default 4); the analyzer's queue gets analyze_concurrency()
        # pollers, each with an environment.
        records = state_file().parent / INVOCATIONS_FILE_NAME
        records.parent.mkdir(parents=True, exist_ok=True)
        records.write_text("")
        runner = ProcessFunctionRunner(
            stack,
            extra,
            per_function,
            concurrency={"AnalyzeChunkFunction": analyze_concurrency()},
            output=str(function_output) if function_output else None,
            records=str(records),
        )
        # Every function's first environment starts before the stack says it is ready, as
        # provisioned concurrency does; REVIEWPULSE_WARM may name the few that will run (the others
        # start on their first invocation, a cold start), for a stack started to try one thing.
        failed = runner.start_environments(
            warm_functions(stack.functions()), ahead=provisioned_environments(stack.functions())
        )
        for function, reason in failed.items():
            logging.getLogger(__name__).warning("%s did not start (%s); its invocations will fail", function, reason)
        key = _local_api_key(KeyRepository(stack.ref("KeysTable"), session.client("dynamodb")))
        # A failed batch comes back after the queue's own visibility timeout (30-90 min for the
        # work and finalize queues), as in Lambda; with injected faults, after FAULTS_RETRY_SECONDS,
        # so that a bounded load run can check that every task still ends.
        faults = bool(os.environ.get(FAULTS_VARIABLE))
        poller = QueuePoller(runner, session.client("sqs"), retry_delay=FAULTS_RETRY_SECONDS if faults else None)
        streams = StreamPoller(runner, streams_client(session))
        # The template's usage plan and compression, as API Gateway applies them.
        gateway = ApiGateway(runner, stage="local", parameters=parameter_overrides)
        server, server_thread = serve(gateway, host, api_port)
    except Exception:
        for close in closers:
            close()
        moto.stop()
        raise
    running = RunningStack(
        aws_endpoint=endpoint,
        api_url=f"http://{host}:{server.server_port}",
        api_key=key,
        tenant=DEFAULT_TENANT,
        stack=stack,
        runner=runner,
        poller=poller,
        gateway=gateway,
        dynamodb_endpoint=moto.dynamodb_endpoint,
    )
    running._closers += [server.shutdown, server.server_close, runner.close, *closers, moto.stop]
    running._threads.append(server_thread)
    for trigger in poller.triggers:
        for n in range(queue_pollers(trigger.function)):
            thread = threading.Thread(
                target=poller.run,
                args=(trigger, running._stop),
                # Every poller waits POLLER_WAIT_SECONDS on an empty queue. The first asked every
                # second until 2026-12-06: about 2 CPU-s a minute of an idle stack (docs/tests.md).
                kwargs={"wait_seconds": POLLER_WAIT_SECONDS},
                name=f"poller-{trigger.function}-{n}",
                daemon=True,
            )
            thread.start()
            running._threads.append(thread)
    for trigger in streams.triggers:
        thread = threading.Thread(
            target=streams.run, args=(trigger, running._stop), name=f"stream-{trigger.function}", daemon=True
        )
        thread.start()
        running._threads.append(thread)
    # REVIEWPULSE_SCHEDULE_SECONDS caps every schedule's period, so that tests need not wait for a
    # 2-minute collector or a 5-minute sweeper (each still runs only what it would have run).
    cap = float(os.environ.get("REVIEWPULSE_SCHEDULE_SECONDS") or 0) or None
    for function, period in schedules():
        thread = threading.Thread(
            target=run_schedule,
            args=(runner, function, min(period, cap) if cap else period, running._stop),
            name=f"schedule-{function}",
            daemon=True,
        )
        thread.start()
        running._threads.append(thread)
    state_file().parent.mkdir(parents=True, exist_ok=True)
    state_file().write_text(
        json.dumps(
            {
                "api_url": running.api_url,
                "api_key": key,
                "aws_endpoint": endpoint,
                "region": REGION,
                "bucket": running.stack.ref("DataBucket"),
                "stack_name": STACK_NAME,
                "usage_plan": running.usage_plan(),
                "invocations": str(state_file().parent / INVOCATIONS_FILE_NAME),
                "pid": os.getpid(),
                "aws_pid": moto.pid,
                "aws_dynamodb_pid": moto.dynamodb_pid,
                "aws_dynamodb_endpoint": moto.dynamodb_endpoint,
            },
            indent=2,
        )
        + "\n"
    )
    return running


def _local_api_key(keys: Any) -> str:
    """The default tenant's key: the one this state folder's last stack used, else a new one, saved
    (owner-only) so that a restart keeps every script and shell that holds it working."""
    saved = api_key_file()
    try:
        key = saved.read_text().strip()
    except OSError:
        key = ""
    if key:
        keys.add(key, DEFAULT_TENANT, local_usage_key(DEFAULT_TENANT))
        return key
    key, _ = keys.create(DEFAULT_TENANT, local_usage_key(DEFAULT_TENANT))
    saved.parent.mkdir(parents=True, exist_ok=True)
    saved.touch(mode=0o600)
    saved.write_text(key + "\n")
    return key


class PortInUse(RuntimeError):
    pass


def _port_is_free(host: str, port: int) -> bool:
    """Whether a server could listen on the port now. Probed as werkzeug's server binds it, with
    SO_REUSEADDR: connections of a stack stopped moments ago linger in TIME_WAIT for a minute,
    and they keep a plain bind out but not a server's."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def invoke(function: str, event: dict[str, Any], env_file: Path | None = None) -> Any:
    """Invoke one function with one event against the running local stack, as `sam local invoke`."""
    import boto3

    from reviewpulse_tools.local.lambda_ import FunctionRunner
    from reviewpulse_tools.local.provision import provision

    state = read_state()
    if state is None:
        raise StackNotRunning("no local stack is running: start one with `make dev`")
    environment = aws_environment(state["aws_endpoint"])
    os.environ.update(environment)
    stack = provision(boto3.session.Session(region_name=REGION), stack_name=state["stack_name"], create=False)
    if function not in stack.functions():
        raise StackNotRunning(f"no function {function!r} in template.yaml; functions: {', '.join(stack.functions())}")
    shared, per_function = read_env_file(env_file)
    runner = FunctionRunner(stack, {**environment, **llm_environment(), **shared}, per_function)
    if _is_unauthorized_api_event(event):
        # An API event as a client's request makes it (`sam local generate-event apigateway
        # aws-proxy`, with an X-Api-Key header): the gateway's authorizer runs first and hands its
        # context on. An event that already carries that context is invoked as it is.
        from reviewpulse_tools.local.apigateway import ApiGateway

        authorized = ApiGateway(runner, stage=event["requestContext"].get("stage") or "local").authorize_event(
            function, event
        )
        if not isinstance(authorized, dict):
            return authorized.as_proxy_result()
        event = authorized
    return runner.invoke(function, event)


def _is_unauthorized_api_event(event: dict[str, Any]) -> bool:
    context = event.get("requestContext")
    return isinstance(context, dict) and "httpMethod" in event and not context.get("authorizer")
