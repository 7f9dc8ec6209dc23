"""Every function of template.yaml keeps the terminal quiet when it publishes no metric: no
Powertools "No application metrics to publish" warning (the list is the template's, so a new
function is held to it without anyone adding it here)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from reviewpulse_tools.local.lambda_environment import PRELOADED_MODULES

from tests.forking_probes import ForkingProbes, server_command
from tests.sam_template import REPO_ROOT, function_properties, load_template

TEMPLATE = load_template()
FUNCTIONS = sorted(
    logical_id
    for logical_id, resource in TEMPLATE["Resources"].items()
    if resource.get("Type") == "AWS::Serverless::Function"
)
# Import the function's handler module as Lambda does, then flush metrics with none added: what
# @metrics.log_metrics does at the end of an invocation that published nothing.
PROBE = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
from reviewpulse.observability import metrics
metrics.flush_metrics()
print("flushed")
"""
# Each probe runs in a process of its own (tests/forking_probes.py), forked from one that imported only the third-party
# libraries the local stack's execution environments are forked with (PRELOADED_MODULES; none reads
# the environment at import): the project's modules and the handler are imported in the child, with
# the function's environment. A fresh interpreter per function cost about 1.3 CPU-s, 33 times.


def resolved(value: object) -> str:
    """A parameter's default for !Ref to a parameter; for other intrinsics (table names, queue
    URLs, counts), a value that parses as either: they only need to be there at import."""
    if isinstance(value, str):
        return value
    parameter = TEMPLATE.get("Parameters", {}).get(value.get("Ref")) if isinstance(value, dict) else None
    if parameter is not None and "Default" in parameter:
        return str(parameter["Default"])
    return "1"  # parses as a number and as a name alike


def environment(logical_id: str) -> dict[str, str]:
    variables = function_properties(TEMPLATE, logical_id).get("Environment", {}).get("Variables", {})
    given = {name: resolved(value) for name, value in variables.items()}
    return {
        **os.environ,
        **given,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }


def test_the_template_has_functions():
    assert len(FUNCTIONS) > 1


class Probes(ForkingProbes):
    """The forking process: run(handler, env) -> (exit code, stdout, stderr) of a probe."""

    def __init__(self, folder: Path) -> None:
        super().__init__(server_command([sys.executable], PROBE, [], PRELOADED_MODULES), folder, timeout=120)

    def run(self, handler: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
        return self.ask({"env": env, "argv": [str(handler)]}, handler)


@pytest.fixture(scope="module")
def probes(tmp_path_factory):
    started = Probes(tmp_path_factory.mktemp("probes"))
    try:
        yield started
    finally:
        started.close()


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_a_function_that_publishes_nothing_does_not_warn(logical_id, probes):
    # Given the function's handler module, imported with its template environment
    code_dir = REPO_ROOT / function_properties(TEMPLATE, logical_id)["CodeUri"]
    handler_module = function_properties(TEMPLATE, logical_id)["Handler"].split(".")[0]
    # When an invocation ends with no metric added
    done = probes.run(code_dir / f"{handler_module}.py", environment(logical_id))
    # Then nothing warns about it
    assert done.returncode == 0 and "flushed" in done.stdout, done.stderr[-2000:]
    assert "No application metrics to publish" not in done.stderr
