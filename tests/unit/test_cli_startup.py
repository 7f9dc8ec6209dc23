"""The CLI answers at once: a command imports only what it uses (behaviour, not timing)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

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
# A modification time long past: what a folder on the search path has when nothing was just
# installed into it (the plugin commands' cache keeps no key younger than a second).
LONG_AGO = 1_000_000_000


def long_ago(folder: Path, later: int = 0) -> Path:
    os.utime(folder, (LONG_AGO + later, LONG_AGO + later))
    return folder


def started(*argv: str, folder: Path, env: dict[str, str] | None = None) -> tuple[int, set[str], str, str]:
    """The exit code, the modules loaded, the standard output before the probe's report, and the
    standard error of `reviewpulse ARGV`, run in `folder` (python -c searches its working folder)
    with its plugin commands' cache in `folder`/cache, never the user's."""
    env = {**(os.environ if env is None else env), "REVIEWPULSE_CACHE_DIR": str(folder / "cache")}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, env=env, cwd=long_ago(folder), timeout=120
    )
    *out, report = done.stdout.strip().splitlines()
    found = json.loads(report)
    return found["code"], set(found["modules"]), "\n".join(out), done.stderr


def loaded_by(*argv: str, folder: Path, env: dict[str, str] | None = None) -> tuple[int, set[str], str]:
    code, modules, _, stderr = started(*argv, folder=folder, env=env)
    return code, modules, stderr


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
def test_help_loads_nothing_heavy(argv, tmp_path):
    # When help is asked for
    code, modules, _ = loaded_by(*argv, folder=tmp_path)
    # Then it answers without loading any heavy library
    assert code == 0
    assert not heavy(modules), heavy(modules)


def test_a_read_command_finds_the_local_stack_without_loading_it(tmp_path):
    # Given a local stack's state file (its API on a port where nothing listens)
    state = tmp_path / "stack.json"
    state.write_text(json.dumps({"api_url": f"http://127.0.0.1:{free_port()}", "api_key": "rp_x", "aws_endpoint": ""}))
    env = {"PATH": "/usr/bin:/bin", "REVIEWPULSE_STATE": str(state)}
    # When `status` runs
    code, modules, stderr = loaded_by("status", "01a22b4d8a", folder=tmp_path, env=env)
    # Then it read the state file (it tried that endpoint) and loaded neither the stack nor any heavy library
    assert code == 1 and "cannot reach http://127.0.0.1:" in stderr
    assert not heavy(modules), heavy(modules)
    assert "reviewpulse_cli.local_state" in modules
    assert not {"reviewpulse_tools.local.stack", "reviewpulse_tools.local.template"} & modules
    # and a command the CLI owns looks for no plugin command
    assert "importlib.metadata" not in modules and not (tmp_path / "cache").exists()


def test_help_lists_the_plugin_commands_without_reading_the_distributions_after_its_first_start(tmp_path):
    # Given a first `reviewpulse --help` (it reads the entry points of the installed distributions)
    code, modules, first, _ = started("--help", folder=tmp_path)
    assert code == 0 and "importlib.metadata" in modules
    # When help is asked for again
    code, modules, again, _ = started("--help", folder=tmp_path)
    # Then it lists the same commands, the developer tools' `dev` and `invoke` among them, without
    # importing importlib.metadata
    assert code == 0 and again == first
    assert {"dev", "invoke"} <= set(again.split())
    assert "importlib.metadata" not in modules, "the plugin commands were read from the distributions again"


PLUGIN = """
def register(commands):
    hello = commands.add_parser("hello", help="say hello from a plugin installed later")
    hello.add_argument("--name", default="world")
    hello.set_defaults(run=lambda args: print(f"hello, {args.name}") or 0)
"""


def install_hello(site: Path) -> Path:
    """What an installer leaves for a distribution adding the command `hello`: its module and its
    .dist-info folder with the entry point."""
    (site / "reviewpulse_hello.py").write_text(textwrap.dedent(PLUGIN))
    info = site / "reviewpulse_hello-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: reviewpulse-hello\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[reviewpulse.commands]\nhello = reviewpulse_hello\n")
    return info


def test_a_plugin_installed_after_the_commands_were_cached_is_listed_and_runs(tmp_path):
    # Given a folder on the search path and the plugin commands cached by a start before anything was installed there
    site = tmp_path / "site"
    site.mkdir()
    env = {**os.environ, "PYTHONPATH": str(long_ago(site))}
    started("--help", folder=tmp_path, env=env)
    _, modules, before, _ = started("--help", folder=tmp_path, env=env)
    assert "importlib.metadata" not in modules and "hello" not in before.split()
    # When a distribution adding the command `hello` is installed into that folder
    info = install_hello(site)
    # Then help lists it and it runs
    code, _, listed, _ = started("--help", folder=tmp_path, env=env)
    assert code == 0 and "hello" in listed.split()
    code, modules, said, _ = started("hello", "--name", "plugin", folder=tmp_path, env=env)
    assert code == 0 and said == "hello, plugin"
    assert not heavy(modules), heavy(modules)
    # and once the folder has settled (its time moved on since the first cache), from the cache too
    long_ago(site, later=60)
    started("--help", folder=tmp_path, env=env)
    _, modules, cached, _ = started("--help", folder=tmp_path, env=env)
    assert "importlib.metadata" not in modules and cached == listed
    # When it is uninstalled, Then it is no longer listed
    for path in [*info.iterdir(), info, site / "reviewpulse_hello.py"]:
        path.rmdir() if path.is_dir() else path.unlink()
    _, _, after, _ = started("--help", folder=tmp_path, env=env)
    assert "hello" not in after.split() and {"dev", "invoke"} <= set(after.split())
