"""Fixtures for the packaging tests: one `sam build` and one emulated Lambda runtime per session.

`make test` sets SAM_CLI to the sam executable of .venv-sam (aws-sam-cli lives in its own virtual
environment because its pins clash with the project's). Without it these tests are skipped.
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"

# A cold build downloads every wheel of the dependencies layer; a warm one takes about 10 s here.
SAM_BUILD_TIMEOUT_SECONDS = 900
PIP_TIMEOUT_SECONDS = 600


# --------------------------------------------------------------------------- fixtures


def _tail(text: str, lines: int = 60) -> str:
    return "\n".join(text.splitlines()[-lines:])


@pytest.fixture(scope="session")
def sam_build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run `sam build` once, uncached, into a temporary folder; return the build folder."""
    sam = os.environ.get("SAM_CLI")
    if not sam:
        pytest.skip(
            "SAM_CLI is not set: run `make test`, or set SAM_CLI to the sam executable "
            "(e.g. SAM_CLI=$PWD/.venv-sam/bin/sam after `make sam-venv`)"
        )
    if not Path(sam).is_file():
        pytest.fail(f"SAM_CLI={sam} does not exist: run `make sam-venv`")
    build_dir = tmp_path_factory.mktemp("sam") / "build"
    command = [
        sam,
        "build",
        "--no-cached",  # aws-sam-cli 1.170 spells "not cached" --no-cached; --cached=false is an error
        "--template-file",
        str(TEMPLATE_PATH),
        "--build-dir",
        str(build_dir),
    ]
    environment = {**os.environ, "SAM_CLI_TELEMETRY": "0"}
    try:
        completed = subprocess.run(
            command,
            cwd=REPO_ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=SAM_BUILD_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"`sam build` took longer than {SAM_BUILD_TIMEOUT_SECONDS} s: {error}")
    if completed.returncode != 0:
        pytest.fail(
            f"`{' '.join(command)}` failed with exit code {completed.returncode}:\n"
            f"{_tail(completed.stdout)}\n{_tail(completed.stderr)}"
        )
    return build_dir


@pytest.fixture(scope="session")
def lambda_runtime_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The packages Lambda's python3.11 runtime brings itself: boto3 and its dependencies only.

    Pinned to the boto3 of the project's environment, so the download is reproducible (and usually
    served from pip's cache).
    """
    target = tmp_path_factory.mktemp("lambda-runtime")
    try:
        requirement = f"boto3=={importlib.metadata.version('boto3')}"
    except importlib.metadata.PackageNotFoundError:
        requirement = "boto3"
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-input",
        "--target",
        str(target),
        requirement,
    ]
    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"installing the emulated Lambda runtime took too long: {error}")
    if completed.returncode != 0:
        pytest.fail(f"`{' '.join(command)}` failed:\n{_tail(completed.stdout)}\n{_tail(completed.stderr)}")
    return target
