"""The CLI installs and works without the development extras: `pip install .` into a fresh virtual
environment, then `reviewpulse --help` and `reviewpulse analyze` against the local stack (run
from the project's own environment, which has moto)."""

from __future__ import annotations

import os
import subprocess
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PIP_TIMEOUT_SECONDS = 900


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh virtual environment with the project installed as a user would: no extras."""
    target = tmp_path_factory.mktemp("pip-install") / "venv"
    venv.EnvBuilder(with_pip=True).create(target)
    done = subprocess.run(
        [str(target / "bin" / "pip"), "install", "--quiet", str(ROOT)],
        capture_output=True,
        text=True,
        timeout=PIP_TIMEOUT_SECONDS,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return target


def clean_env(**extra: str) -> dict[str, str]:
    """The shell of a user who installed it: no project virtual environment on PATH or PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "REVIEWPULSE_STATE")}
    return {**env, **extra}


@pytest.mark.packaging
def test_the_installed_cli_has_no_development_extras_and_answers_help(installed, tmp_path):
    # Given the installed environment: none of the dev extras came with it
    listed = subprocess.run([str(installed / "bin" / "pip"), "list"], capture_output=True, text=True).stdout.lower()
    assert "moto" not in listed and "pytest" not in listed and "cfn-lint" not in listed
    # When its `reviewpulse --help` runs, outside the repository
    done = subprocess.run(
        [str(installed / "bin" / "reviewpulse"), "--help"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
    )
    # Then it lists the commands
    assert done.returncode == 0, done.stderr
    assert "analyze" in done.stdout and "tasks" in done.stdout


@pytest.mark.packaging
def test_the_installed_cli_analyses_against_the_local_stack(installed, local, tmp_path):  # noqa: F811
    # Given a CSV and the running local stack's state file
    source = tmp_path / "two.csv"
    source.write_text('id,review\n1,Absolutely love it\n2,"Terrible, it broke after one day"\n')
    env = clean_env(REVIEWPULSE_STATE=local["env"]["REVIEWPULSE_STATE"])
    # When the installed `reviewpulse analyze` runs, outside the repository
    done = subprocess.run(
        [str(installed / "bin" / "reviewpulse"), "analyze", str(source), "--id-field", "id", "--no-progress"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    # Then it writes the results beside it, one row per input row, with their labels
    assert done.returncode == 0, done.stderr
    lines = (tmp_path / "two.results.csv").read_text().splitlines()
    assert len(lines) == 3 and ",positive," in lines[1] and ",negative," in lines[2]
    # And the one text analysis works the same way
    one = subprocess.run(
        [str(installed / "bin" / "reviewpulse"), "analyze", "--text", "Great value, love it"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert one.returncode == 0 and "positive" in one.stdout, one.stderr
