"""The local stack a benchmark runs on: its own, started and stopped around it (`make bench`, so
that each benchmark's timings start clean), or one that several benchmarks share (the quick run in
`make test`: starting a stack costs most of a minute on a busy 2-core machine).

The shared stack is started with what every benchmark on it needs: the fake OpenAI-compatible
server (quote) and the usage plan's rate raised (wire, and the status polls of the others).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# What the functions read when a benchmark runs them in this process under moto (no stack of
# processes): moto's dummy credentials, no X-Ray, quiet logs.
IN_PROCESS_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "ReviewPulse",
    "POWERTOOLS_SERVICE_NAME": "reviewpulse",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}

# Room for the benchmarks' requests on one key, as the test suite's own stack has.
RAISED_THROTTLE = {"ThrottleRateLimit": "1000", "ThrottleBurstLimit": "1000"}


@contextmanager
def bench_stack(shared: Any = None, **options: Any) -> Iterator[Any]:
    """`shared` if given (left running), else a stack of its own with `options` (see
    reviewpulse_tools.local.stack.start), on free ports and a state file of its own."""
    if shared is not None:
        yield shared
        return
    running = start_stack(**options)
    try:
        yield running
    finally:
        running.stop()


def start_stack(**options: Any) -> Any:
    from reviewpulse_tools.local.stack import free_port, start

    workdir = Path(tempfile.mkdtemp(prefix="reviewpulse-bench-"))
    # The CLI benchmark finds the stack through this state file, as a user's shell would.
    os.environ["REVIEWPULSE_STATE"] = str(workdir / "stack.json")
    return start(api_port=free_port(), aws_port=free_port(), function_output=workdir / "functions.log", **options)


def start_shared_stack() -> Any:
    return start_stack(fake_llm=True, parameter_overrides=RAISED_THROTTLE)
