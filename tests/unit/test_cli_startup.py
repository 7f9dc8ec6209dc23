"""The CLI answers at once: a command imports only what it uses (behaviour, not timing)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from reviewpulse_tools.local.stack import free_port

# What `--help`, and a read command finding the local stack by its state file, must not load: the
# HTTP library for uploads, AWS's SDK, the template tooling, moto, the domain's models, rich.
HEAVY = ("httpx", "boto3", "botocore", "cfnlint", "samtranslator", "moto", "pydantic", "rich", "fastapi")
PROBE = """
import json, sys
from reviewpulse_cli.main import main
try:
    code = main(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def loaded_by(*argv: str, env: dict[str, str] | None = None) -> tuple[int, set[str], str]:
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, env=env, timeout=60)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return report["code"], set(report["modules"]), done.stderr


def heavy(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules} & set(HEAVY)


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["analyze", "--help"],
        ["status", "--help"],
        ["tasks", "--help"],
        ["keys", "create", "--help"],
        ["dev", "--help"],
    ],
)
def test_help_loads_nothing_heavy(argv):
    # When help is asked for
    code, modules, _ = loaded_by(*argv)
    # Then it answers without loading any heavy library
    assert code == 0
    assert not heavy(modules), heavy(modules)


def test_a_read_command_finds_the_local_stack_without_loading_it(tmp_path):
    # Given a local stack's state file (its API on a port where nothing listens)
    state = tmp_path / "stack.json"
    state.write_text(json.dumps({"api_url": f"http://127.0.0.1:{free_port()}", "api_key": "rp_x", "aws_endpoint": ""}))
    env = {"PATH": "/usr/bin:/bin", "REVIEWPULSE_STATE": str(state)}
    # When `status` runs
    code, modules, stderr = loaded_by("status", "01a22b4d8a", env=env)
    # Then it read the state file (it tried that endpoint) and loaded neither the stack nor any heavy library
    assert code == 1 and "cannot reach http://127.0.0.1:" in stderr
    assert not heavy(modules), heavy(modules)
    assert "reviewpulse_cli.local_state" in modules
    assert not {"reviewpulse_tools.local.stack", "reviewpulse_tools.local.template"} & modules
