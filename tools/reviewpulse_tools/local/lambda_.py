"""Lambda on one machine: two runners that invoke the real handlers with each function's
environment from the template — FunctionRunner in this interpreter (the tests: moto's in-process
mock cannot be shared), ProcessFunctionRunner in execution environments of their own (the local
stack), whose inside is lambda_environment.py (with the context object handlers read).
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib.util
import json
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from types import ModuleType
from typing import TYPE_CHECKING, Any

from reviewpulse.settings import get_settings

from reviewpulse_tools.local.lambda_environment import (
    UNITS_SUFFIX,
    Invocation,
    LambdaContext,
    _environment_invoke,
    _environment_ready,
    _environment_start,
    environment_context,
    read_invocations,
)

if TYPE_CHECKING:
    # Not at run time: the template's tooling (cfn-lint) would add seconds and tens of MB to
    # whatever imports the runners (execution environments import lambda_environment.py only).
    from reviewpulse_tools.local.provision import ProvisionedStack


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

    def invoke(self, function: str, event: dict[str, Any], wait_until: float | None = None) -> Any:
        # One invocation at a time here (see above); `wait_until` is ProcessFunctionRunner's.
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


class StackStopping(FunctionError):
    """An invocation asked for after the stack began to stop: not the function's failure. Pollers
    leave its batch where it is (the queue's and the stream's data die with the stack anyway)."""


class WaitedTooLong(Exception):
    """No execution environment was free before the caller's deadline (the gateway's 29 s
    integration timeout): API Gateway answers 504. Locally only: Lambda would have started one."""


# Execution environments per function, at most, unless the stack says otherwise for a function
# (REVIEWPULSE_LAMBDA_ENVIRONMENTS sets the default). Lambda runs up to the account's 1,000; here
# each one is a Python process of 60-100 MB, started on first need and kept for reuse, so the cap
# bounds memory (33 functions x 4 = 132 processes, about 11 GB, if every function were busy at once;
# a load run starts a few dozen). Invocations beyond the cap wait for one to come free.
DEFAULT_ENVIRONMENTS = 4


def default_environments() -> int:
    return max(1, int(os.environ.get("REVIEWPULSE_LAMBDA_ENVIRONMENTS") or DEFAULT_ENVIRONMENTS))


# An execution environment idle this long is shut down, as Lambda reclaims idle ones (AWS names no
# figure; minutes to tens of minutes are observed): a burst's extra environments, 60-100 MB each,
# do not stay for the life of the stack. Each function keeps one (the one the stack starts ahead,
# as provisioned concurrency would), so a quiet function's next call is not a cold start here.
# REVIEWPULSE_LAMBDA_IDLE_SECONDS sets it.
DEFAULT_IDLE_SECONDS = 600.0
KEPT_ENVIRONMENTS = 1


def default_idle_seconds() -> float:
    return max(0.1, float(os.environ.get("REVIEWPULSE_LAMBDA_IDLE_SECONDS") or DEFAULT_IDLE_SECONDS))


class _Environment:
    """One execution environment: a process of its own running one invocation at a time."""

    def __init__(self, pool: ProcessPoolExecutor) -> None:
        self.pool = pool
        self.pid = 0
        self.fresh = False  # started lazily and not invoked yet: its first invocation is a cold start
        self.failed = False  # its start failed
        self.idle_since = time.monotonic()  # when it last became idle

    def kill(self) -> None:
        for process in list(getattr(self.pool, "_processes", {}).values()):
            process.kill()
        self.pool.shutdown(wait=False, cancel_futures=True)


class _Function:
    """A function's environments: idle ones (reused, the most recent first), and how many exist."""

    def __init__(self, limit: int, reserved: int | None) -> None:
        self.limit = limit
        self.reserved = reserved
        self.idle: list[_Environment] = []
        self.count = 0  # idle, busy and starting
        self.kept = KEPT_ENVIRONMENTS  # never reaped when idle: those started ahead (provisioned)
        self.changed = threading.Condition()


class ProcessFunctionRunner:
    """Runs each function in execution environments of its own, as Lambda does: each a process
    with its own module state and the function's environment, running one invocation at a time.
    An invocation takes an idle environment (the most recently used: warm), else starts a new one
    (a cold start) up to the function's limit, else waits for one to come free.

    The limit is the function's ReservedConcurrentExecutions where the template sets one, and an
    invocation past it is throttled at once (TooManyRequestsException) as Lambda throttles it;
    otherwise it is this machine's cap (`concurrency`, else default_environments()), and an
    invocation past the cap waits, since Lambda would not have refused it. An environment idle
    for `idle_seconds` (default_idle_seconds()) is shut down, but each function keeps one. The wait never counts
    against the function's own Timeout; a caller may bound it (`wait_until`, the gateway's
    integration timeout). A timed-out or crashed environment is killed and replaced on demand.

    The local stack uses it; the tests use FunctionRunner, since moto's in-process mock cannot
    be shared with other processes."""

    def __init__(
        self,
        stack: ProvisionedStack,
        extra_environment: dict[str, str] | None = None,
        function_environment: dict[str, dict[str, str]] | None = None,
        concurrency: dict[str, int] | None = None,
        output: str | None = None,
        records: str | None = None,
        idle_seconds: float | None = None,
    ) -> None:
        self.stack = stack
        self.idle_seconds = idle_seconds if idle_seconds is not None else default_idle_seconds()
        self.reaped: dict[str, int] = {}  # function → environments shut down for being idle
        self._reaper: threading.Thread | None = None
        self._stopping = threading.Event()
        self.extra_environment = {"POWERTOOLS_TRACE_DISABLED": "true", **(extra_environment or {})}
        self.function_environment = function_environment or {}
        self.concurrency = concurrency or {}
        self.output = output  # a file for the functions' own output (logs, EMF metrics); None: ours
        self.records = records  # a JSON-lines file of every invocation's record; None: none kept
        self._functions: dict[str, _Function] = {}
        self._lock = threading.Lock()
        self._records_lock = threading.Lock()
        self._closed = False
        self.invocations: dict[str, int] = {}
        self.busy_seconds: dict[str, float] = {}
        # CPU seconds of each function's handlers (all threads of its environments) and the largest
        # peak RSS any of its environments reached: what the cost model and memory sizing price.
        self.cpu_seconds: dict[str, float] = {}
        self.peak_rss_kb: dict[str, int] = {}
        self.api_calls: dict[str, dict[str, int]] = {}  # function → "service:Operation" → count
        # The same calls in the units AWS bills them by (see billed_units): the cost benchmark's.
        self.request_units: dict[str, dict[str, int]] = {}

    environment = FunctionRunner.environment

    def limit(self, function: str) -> int:
        """The most execution environments the function gets here."""
        return self._function(function).limit

    def environments(self, function: str) -> int:
        """How many execution environments the function has now (idle, busy or starting)."""
        return self._function(function).count

    def idle_environments(self, function: str) -> int:
        """How many of them are idle now."""
        state = self._function(function)
        with state.changed:
            return len(state.idle)

    def invoke(self, function: str, event: dict[str, Any], wait_until: float | None = None) -> Any:
        """`wait_until` (time.monotonic()) bounds the wait for a free environment: past it,
        WaitedTooLong. The function's own Timeout runs from when an environment takes the event."""
        timeout = int(self.stack.function_properties(function).get("Timeout", 3))
        asked = time.monotonic()
        environment, cold = self._acquire(function, wait_until)
        waited = time.monotonic() - asked
        outcome_name = "ok"
        try:
            future = environment.pool.submit(_environment_invoke, event)
            # The handler's own timer runs inside; this bound only catches an environment that hangs.
            outcome, calls, elapsed, cpu, rss_kb = future.result(timeout=timeout + 5)
        except BrokenProcessPool:
            # The environment died (out of memory, killed): the next invocation gets a new one.
            self._retire(function, environment)
            self._record(function, environment, asked, 0.0, waited, cold, "Runtime.ExitError")
            raise FunctionError("Runtime.ExitError", "the execution environment exited") from None
        except FutureTimeout:
            self._retire(function, environment)
            self._record(function, environment, asked, timeout * 1000.0, waited, cold, "Sandbox.Timedout")
            raise FunctionError("Sandbox.Timedout", f"Task timed out after {timeout}.00 seconds") from None
        except BaseException:
            self._retire(function, environment)
            raise
        self._release(function, environment)
        with self._lock:
            self.invocations[function] = self.invocations.get(function, 0) + 1
            self.busy_seconds[function] = self.busy_seconds.get(function, 0.0) + elapsed
            self.cpu_seconds[function] = self.cpu_seconds.get(function, 0.0) + cpu
            self.peak_rss_kb[function] = max(self.peak_rss_kb.get(function, 0), rss_kb)
            counts = self.api_calls.setdefault(function, {})
            units = self.request_units.setdefault(function, {})
            for name, count in calls.items():
                into, key = (units, name.removesuffix(UNITS_SUFFIX)) if name.endswith(UNITS_SUFFIX) else (counts, name)
                into[key] = into.get(key, 0) + count
        if "errorType" in outcome:
            outcome_name = outcome["errorType"]
        self._record(function, environment, asked, elapsed * 1000.0, waited, cold, outcome_name, cpu * 1000.0)
        if "errorType" in outcome:
            raise FunctionError(outcome["errorType"], outcome["errorMessage"])
        return outcome["result"]

    def start_environments(
        self, functions: list[str], timeout: float = 300, ahead: dict[str, int] | None = None
    ) -> dict[str, str]:
        """Start one execution environment of every function now (`ahead` may ask more of some,
        up to its limit), in parallel, and wait until each is ready (as provisioned concurrency
        does: they are kept however long idle). Started lazily, a cold start (a fresh interpreter
        importing FastAPI, boto3, Powertools: seconds, and tens of seconds on a loaded machine)
        landed on a client's request. More start when invocations overlap. Returns the functions
        that failed to start and why; their next invocation tries again."""
        starting = []
        for function in functions:
            state = self._function(function)
            with state.changed:
                wanted = min(state.limit, max(1, (ahead or {}).get(function, 1)))
                state.kept, new = max(state.kept, wanted), max(0, wanted - state.count)
                state.count += new
            starting += [(function, *self._new_environment(function)) for _ in range(new)]
        deadline = time.monotonic() + timeout
        failed: dict[str, str] = {}
        for function, environment, future in starting:
            state = self._function(function)
            try:
                environment.pid = future.result(timeout=max(0.0, deadline - time.monotonic()))
            except (BrokenProcessPool, FutureTimeout) as exc:
                failed[function] = type(exc).__name__
                self._retire(function, environment)
                continue
            self._release(function, environment)
        return failed

    def close(self) -> None:
        self._closed = True
        self._stopping.set()
        with self._lock:
            functions = list(self._functions.values())
        idle: list[_Environment] = []
        for state in functions:
            with state.changed:
                idle, state.idle = idle + state.idle, []
                state.changed.notify_all()
        # All at once: each environment's interpreter takes a second or more to exit on a busy
        # machine, and one after another the 34 of a stack took over a minute.
        if idle:
            with ThreadPoolExecutor(max_workers=len(idle), thread_name_prefix="stopping") as stopping:
                for environment in idle:
                    stopping.submit(environment.pool.shutdown, wait=True, cancel_futures=True)

    def reap(self, now: float | None = None) -> int:
        """Shut down every environment idle for longer than `idle_seconds`, the least recently
        used first, keeping KEPT_ENVIRONMENTS per function (or those started ahead). Returns how many it shut down."""
        now = time.monotonic() if now is None else now
        with self._lock:
            functions = list(self._functions.items())
        reaped = 0
        for function, state in functions:
            with state.changed:
                # idle is in the order environments came free: the front has waited longest.
                stale = [e for e in state.idle if now - e.idle_since > self.idle_seconds]
                stale = stale[: max(0, state.count - state.kept)]
                for environment in stale:
                    state.idle.remove(environment)
                state.count -= len(stale)
            for environment in stale:
                environment.pool.shutdown(wait=False, cancel_futures=True)
            if stale:
                with self._lock:
                    self.reaped[function] = self.reaped.get(function, 0) + len(stale)
                reaped += len(stale)
        return reaped

    def _reap_until_closed(self) -> None:
        while not self._stopping.wait(min(30.0, max(0.05, self.idle_seconds / 4))):
            self.reap()

    def _function(self, function: str) -> _Function:
        with self._lock:
            if self._reaper is None:
                self._reaper = threading.Thread(target=self._reap_until_closed, name="lambda-reaper", daemon=True)
                self._reaper.start()
            if function not in self._functions:
                reserved = self.stack.function_properties(function).get("ReservedConcurrentExecutions")
                cap = self.concurrency.get(function) or default_environments()
                reserved = None if reserved is None else int(reserved)
                # Reserved below the cap: Lambda's own limit, and past it Lambda throttles.
                limit = min(cap, reserved) if reserved is not None else cap
                self._functions[function] = _Function(
                    limit, reserved if reserved is not None and reserved <= cap else None
                )
            return self._functions[function]

    def _acquire(self, function: str, wait_until: float | None) -> tuple[_Environment, bool]:
        """An idle environment; else start one (up to the limit) and take whichever is idle first,
        the new one or one that came free meanwhile: on a busy machine a cold start takes longer
        than most invocations, and an invocation need not wait for its own. Returns the
        environment and whether this is its first invocation after a lazy start (a cold start)."""
        state = self._function(function)
        started: _Environment | None = None
        with state.changed:
            while True:
                if state.idle:
                    environment = state.idle.pop()  # the most recently used: warm (the others may be reaped)
                    cold, environment.fresh = environment.fresh, False
                    return environment, cold
                if self._closed:
                    raise StackStopping("Runtime.ExitError", "the local stack is stopping")
                if started is not None and started.failed:
                    raise FunctionError("Runtime.InitError", "the execution environment failed to start")
                if started is None and state.count < state.limit:
                    state.count += 1
                    started, future = self._new_environment(function)
                    future.add_done_callback(lambda done, new=started: self._started(function, new, done))
                elif state.count >= state.limit and state.reserved is not None and started is None:
                    raise FunctionError("TooManyRequestsException", "Rate Exceeded.")
                remaining = None if wait_until is None else wait_until - time.monotonic()
                if remaining is not None and remaining <= 0:
                    # A started environment joins the idle ones when ready, for the next caller.
                    raise WaitedTooLong(function)
                state.changed.wait(timeout=remaining if remaining is not None else 5)

    def _started(self, function: str, environment: _Environment, future: Future) -> None:
        if future.cancelled() or future.exception() is not None:
            environment.failed = True
            self._retire(function, environment)
        else:
            environment.pid = future.result()
            environment.fresh = True
            self._release(function, environment)

    def _release(self, function: str, environment: _Environment) -> None:
        state = self._function(function)
        with state.changed:
            if self._closed:
                environment.pool.shutdown(wait=False, cancel_futures=True)
                state.count -= 1
                return
            environment.idle_since = time.monotonic()
            state.idle.append(environment)
            state.changed.notify()

    def _retire(self, function: str, environment: _Environment) -> None:
        environment.kill()
        state = self._function(function)
        with state.changed:
            state.count -= 1
            state.changed.notify()

    def _new_environment(self, function: str) -> tuple[_Environment, Future]:
        properties = self.stack.function_properties(function)
        pool = ProcessPoolExecutor(
            max_workers=1,
            mp_context=environment_context(),
            initializer=_environment_start,
            initargs=(
                str(self.stack.function_code_dir(function) / "app.py"),
                # This process's variables as they are now (the fork server's are those of when it
                # started), then the function's: what a spawned environment would inherit.
                {**os.environ, **self.environment(function)},
                f"{self.stack.name}-{function}",
                int(properties.get("MemorySize", 128)),
                int(properties.get("Timeout", 3)),
                self.output,
            ),
        )
        return _Environment(pool), pool.submit(_environment_ready)

    def _record(
        self,
        function: str,
        environment: _Environment,
        asked: float,
        duration_ms: float,
        waited: float,
        cold: bool,
        outcome: str,
        cpu_ms: float = 0.0,
    ) -> None:
        if self.records is None:
            return
        record = Invocation(
            function=function,
            environment=environment.pid,
            started=time.time() - (time.monotonic() - asked),
            duration_ms=round(duration_ms, 2),
            waited_ms=round(waited * 1000.0, 2),
            cold=cold,
            outcome=outcome,
            cpu_ms=round(cpu_ms, 2),
        )
        line = json.dumps(dataclasses.asdict(record)) + "\n"
        with self._records_lock, open(self.records, "a") as sink:
            sink.write(line)


__all__ = [
    "FunctionError",
    "FunctionRunner",
    "Invocation",
    "LambdaContext",
    "ProcessFunctionRunner",
    "WaitedTooLong",
    "default_environments",
    "read_invocations",
]
