"""The local stack's Lambda runner runs several execution environments per function, as Lambda
does (tools/reviewpulse_tools/local/lambda_.py): overlapping invocations get environments of their
own up to the function's limit, idle ones are reused, reserved concurrency throttles, waiting for
an environment never counts against the function's timeout, and a timed-out environment is
replaced without touching the others. Idle environments are shut down after the idle time, the
least recently used first, down to one per function.

A stand-in stack with one tiny function (a handler that sleeps as its event says and answers with
its process id), so that the environments start in about a second each (seconds when busy)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
from reviewpulse_tools.local.lambda_ import (
    FunctionError,
    ProcessFunctionRunner,
    StackStopping,
    WaitedTooLong,
    read_invocations,
)
from reviewpulse_tools.local.lambda_environment import NICENESS_VARIABLE

APP = """
import os, time

def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return {"pid": os.getpid()}
"""


class TinyStack:
    name = "tiny"
    region = "us-east-1"

    def __init__(self, folder: Path, properties: dict[str, Any]) -> None:
        (folder / "app.py").write_text(APP)
        self.folder = folder
        self.properties = properties

    def function_properties(self, function: str) -> dict[str, Any]:
        return self.properties

    def function_environment(self, function: str) -> dict[str, str]:
        return {}

    def function_code_dir(self, function: str) -> Path:
        return self.folder


@pytest.fixture
def make_runner(tmp_path):
    runners = []

    def make(properties: dict[str, Any], cap: int, idle_seconds: float = 3600) -> ProcessFunctionRunner:
        runner = ProcessFunctionRunner(
            TinyStack(tmp_path, properties),
            concurrency={"Tiny": cap},
            records=str(tmp_path / "invocations.jsonl"),
            idle_seconds=idle_seconds,
        )
        runners.append(runner)
        return runner

    yield make
    for runner in runners:
        runner.close()


def invoke_together(runner: ProcessFunctionRunner, events: list[dict[str, Any]], **kwargs: Any) -> list[Any]:
    """Invoke at once from several threads, as the gateway's request threads do."""
    answers: list[Any] = [None] * len(events)

    def one(i: int) -> None:
        try:
            answers[i] = runner.invoke("Tiny", events[i], **kwargs)
        except Exception as exc:  # the answer under test
            answers[i] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(events))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_overlapping_invocations_start_environments_up_to_the_cap_and_later_ones_reuse_them(make_runner, tmp_path):
    # Given a function with room for 3 environments, none started yet
    runner = make_runner({"Timeout": 60}, cap=3)
    # When 5 invocations overlap (each holds its environment a while), then 3 more follow one by one
    overlapping = invoke_together(runner, [{"sleep": 3}] * 5)
    following = [runner.invoke("Tiny", {}) for _ in range(3)]

    # Then environments were started lazily up to the cap and no further, and all answered
    assert runner.environments("Tiny") == 3
    assert all(isinstance(answer, dict) for answer in overlapping), overlapping
    assert len({answer["pid"] for answer in overlapping}) > 1  # not one after another in one
    # and the later ones reused them, warm: no other process, no cold start
    assert {answer["pid"] for answer in following} <= {answer["pid"] for answer in overlapping}
    records = read_invocations(tmp_path / "invocations.jsonl")
    assert 1 <= [r.cold for r in records].count(True) <= 3
    assert not any(r.cold for r in records[5:])
    assert all(r.outcome == "ok" and r.duration_ms >= 0 for r in records)


def test_past_the_cap_an_invocation_waits_and_the_wait_is_not_its_timeout(make_runner, tmp_path):
    # Given one environment and a 2 s function timeout (the runner kills an environment 5 s past it)
    runner = make_runner({"Timeout": 2}, cap=1)
    # When 5 invocations of 1.5 s each arrive at once (the last waits 6 s or more for the environment)
    answers = invoke_together(runner, [{"sleep": 1.5}] * 5)
    # Then all succeed in the one environment: only running counts against the timeout
    assert all(isinstance(answer, dict) for answer in answers), answers
    assert len({answer["pid"] for answer in answers}) == 1
    assert max(r.waited_ms for r in read_invocations(tmp_path / "invocations.jsonl")) > 0


def test_a_caller_that_cannot_wait_longer_gets_waited_too_long(make_runner):
    # Given one environment, busy for a while
    runner = make_runner({"Timeout": 60}, cap=1)
    runner.start_environments(["Tiny"])
    busy = threading.Thread(target=runner.invoke, args=("Tiny", {"sleep": 4}))
    busy.start()
    time.sleep(0.5)
    # When another caller will wait only until a deadline that passes before it is free
    with pytest.raises(WaitedTooLong):
        runner.invoke("Tiny", {}, wait_until=time.monotonic() + 0.5)
    busy.join()
    # Then the environment is still there for the next one
    assert "pid" in runner.invoke("Tiny", {})


def test_reserved_concurrency_throttles_past_it(make_runner):
    # Given a function with reserved concurrency 1 (below this machine's cap of 3)
    runner = make_runner({"Timeout": 60, "ReservedConcurrentExecutions": 1}, cap=3)
    # When two invocations overlap
    answers = invoke_together(runner, [{"sleep": 3}, {"sleep": 3}])
    # Then one runs and the other is throttled, as Lambda throttles it
    throttled = [a for a in answers if isinstance(a, FunctionError)]
    assert len(throttled) == 1 and throttled[0].error_type == "TooManyRequestsException"
    assert runner.limit("Tiny") == 1


def test_a_timed_out_environment_is_replaced_and_the_others_keep_running(make_runner):
    # Given two environments of a function with a 1 s timeout
    runner = make_runner({"Timeout": 1}, cap=2)
    # When one invocation hangs past the timeout while another runs normally
    answers = invoke_together(runner, [{"sleep": 30}, {"sleep": 0.2}])
    # Then the hung one is Lambda's timeout, the other answered
    errors = [a for a in answers if isinstance(a, FunctionError)]
    assert [e.error_type for e in errors] == ["Sandbox.Timedout"]
    survivor = next(a for a in answers if isinstance(a, dict))
    # and only the hung environment is gone: the next invocation runs in the survivor
    assert runner.environments("Tiny") == 1
    assert runner.invoke("Tiny", {})["pid"] == survivor["pid"]


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_for(condition: Any, seconds: float = 120) -> bool:
    """Poll until `condition()` holds (a generous bound on a busy machine; not a timing claim)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def test_environments_idle_past_the_idle_time_are_shut_down_down_to_one_the_most_recently_used(make_runner):
    # Given three environments after a burst, then one invocation that leaves one of them the most recently used
    runner = make_runner({"Timeout": 60}, cap=3)
    burst = invoke_together(runner, [{"sleep": 3}] * 3)
    pids = {answer["pid"] for answer in burst}
    assert runner.environments("Tiny") == 3 and len(pids) == 3
    latest = runner.invoke("Tiny", {})["pid"]
    # When none has been idle for the idle time yet, nothing is shut down
    assert runner.reap() == 0
    # When they have all been idle past it
    reaped = runner.reap(now=time.monotonic() + runner.idle_seconds + 1)
    # Then all but one are shut down, their processes end, and the one kept is the most recently used
    assert reaped == 2 and runner.reaped == {"Tiny": 2}
    assert runner.environments("Tiny") == 1
    assert wait_for(lambda: all(_gone(pid) for pid in pids - {latest}))
    assert runner.invoke("Tiny", {})["pid"] == latest


def test_a_busy_environment_is_never_shut_down_for_idleness(make_runner):
    # Given two environments, one of them busy with a long invocation
    runner = make_runner({"Timeout": 60}, cap=2)
    invoke_together(runner, [{"sleep": 2}] * 2)
    answer: dict[str, Any] = {}
    busy = threading.Thread(target=lambda: answer.update(runner.invoke("Tiny", {"sleep": 4})))
    busy.start()
    assert wait_for(lambda: runner.idle_environments("Tiny") == 1)  # the other has taken the invocation
    # When every idle environment is past the idle time
    reaped = runner.reap(now=time.monotonic() + runner.idle_seconds + 1)
    busy.join()
    # Then only the idle one went; the busy one answered and stays
    assert reaped == 1
    assert "pid" in answer and runner.environments("Tiny") == 1
    assert runner.invoke("Tiny", {})["pid"] == answer["pid"]


def test_the_runner_reaps_on_its_own_after_the_idle_time(make_runner):
    # Given a short idle time and two environments after overlapping invocations
    runner = make_runner({"Timeout": 60}, cap=2, idle_seconds=1)
    invoke_together(runner, [{"sleep": 2}] * 2)
    # When they are left idle, Then the runner shuts one down by itself and keeps the other
    assert wait_for(lambda: runner.environments("Tiny") == 1)
    assert runner.reaped == {"Tiny": 1}
    assert "pid" in runner.invoke("Tiny", {})


def test_the_stack_starts_the_environments_reviewpulse_warm_names(monkeypatch):
    from reviewpulse_tools.local.stack import UnknownFunction, warm_functions

    functions = ["AuthorizerFunction", "HealthFunction", "SplitFunction"]
    # Given no REVIEWPULSE_WARM, or "all": every function's first environment starts with the stack
    monkeypatch.delenv("REVIEWPULSE_WARM", raising=False)
    assert warm_functions(functions) == functions
    monkeypatch.setenv("REVIEWPULSE_WARM", "all")
    assert warm_functions(functions) == functions
    # Given a list: only those (the others start on their first invocation)
    monkeypatch.setenv("REVIEWPULSE_WARM", "HealthFunction, AuthorizerFunction")
    assert warm_functions(functions) == ["AuthorizerFunction", "HealthFunction"]
    # Given a name the template does not have: refused, naming it
    monkeypatch.setenv("REVIEWPULSE_WARM", "HealthFunction,NoSuchFunction")
    with pytest.raises(UnknownFunction, match="NoSuchFunction"):
        warm_functions(functions)


def test_the_stack_polls_each_queue_with_as_many_pollers_as_its_settings_say(monkeypatch):
    from reviewpulse_tools.local.stack import ANALYZE_CONCURRENCY, queue_pollers

    # Given no settings: the analyzer's queue gets its per-core default, every other queue one poller
    monkeypatch.delenv("REVIEWPULSE_ANALYZE_CONCURRENCY", raising=False)
    monkeypatch.delenv("REVIEWPULSE_QUEUE_POLLERS", raising=False)
    assert queue_pollers("AnalyzeChunkFunction") == ANALYZE_CONCURRENCY
    assert queue_pollers("FinalizeFunction") == 1
    # Given a load run's settings: each says how many for its queues, and only for them
    monkeypatch.setenv("REVIEWPULSE_ANALYZE_CONCURRENCY", "6")
    monkeypatch.setenv("REVIEWPULSE_QUEUE_POLLERS", "3")
    assert [queue_pollers(f) for f in ("AnalyzeChunkFunction", "FinalizeFunction", "SplitFunction")] == [6, 3, 3]
    # Given zero: still one poller (a queue nobody polls would leave its tasks unfinished)
    monkeypatch.setenv("REVIEWPULSE_QUEUE_POLLERS", "0")
    assert queue_pollers("FinalizeFunction") == 1


def test_environments_started_ahead_serve_overlapping_invocations_warm_and_are_kept_when_idle(make_runner, tmp_path):
    # Given a function with room for 4 environments, 3 of them started ahead (provisioned)
    runner = make_runner({"Timeout": 60}, cap=4)
    assert runner.start_environments(["Tiny"], ahead={"Tiny": 3}) == {}
    assert runner.environments("Tiny") == 3 and runner.idle_environments("Tiny") == 3
    # When 3 invocations overlap
    answers = invoke_together(runner, [{"sleep": 2}] * 3)
    # Then each ran in one of them: no cold start, no wait for a new one
    assert len({answer["pid"] for answer in answers}) == 3
    assert runner.environments("Tiny") == 3
    assert not any(r.cold for r in read_invocations(tmp_path / "invocations.jsonl"))
    # and however long they stay idle, none is shut down
    assert runner.reap(now=time.monotonic() + runner.idle_seconds + 1) == 0
    assert runner.environments("Tiny") == 3
    # Given more asked ahead than the cap: the cap holds
    assert runner.start_environments(["Tiny"], ahead={"Tiny": 9}) == {}
    assert runner.environments("Tiny") == 4


def test_the_stack_starts_ahead_the_environments_reviewpulse_provisioned_asks(monkeypatch):
    from reviewpulse_tools.local.stack import UnknownFunction, provisioned_environments

    functions = ["AuthorizerFunction", "GetTaskFunction", "SplitFunction"]
    # Given no REVIEWPULSE_PROVISIONED: nothing beyond each function's first
    monkeypatch.delenv("REVIEWPULSE_PROVISIONED", raising=False)
    assert provisioned_environments(functions) == {}
    # Given function=count pairs: those counts
    monkeypatch.setenv("REVIEWPULSE_PROVISIONED", "GetTaskFunction=6, AuthorizerFunction=2")
    assert provisioned_environments(functions) == {"GetTaskFunction": 6, "AuthorizerFunction": 2}
    # Given a function the template does not have, or no count: refused, naming it
    for wrong in ("NoSuchFunction=2", "GetTaskFunction", "GetTaskFunction=many"):
        monkeypatch.setenv("REVIEWPULSE_PROVISIONED", wrong)
        with pytest.raises(UnknownFunction, match=wrong):
            provisioned_environments(functions)


def test_a_closed_runner_answers_a_new_invocation_with_stack_stopping(make_runner):
    runner = make_runner({"Timeout": 10}, cap=1)
    runner.close()

    with pytest.raises(StackStopping):
        runner.invoke("Tiny", {})


def test_a_load_run_can_lower_every_environments_priority_below_the_emulated_services(make_runner, monkeypatch):
    # Given the stack's process asked for environments 3 nice steps below itself
    monkeypatch.setenv(NICENESS_VARIABLE, "3")
    runner = make_runner({"Timeout": 30}, cap=1)

    # When an environment starts and answers
    answer = runner.invoke("Tiny", {})

    # Then its process runs at the lower priority, below this one (moto's and the gateway's stand-in)
    assert psutil.Process(answer["pid"]).nice() == min(os.nice(0) + 3, 19)
