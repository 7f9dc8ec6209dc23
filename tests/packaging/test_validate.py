"""`sam validate --lint` accepts the template with zero findings."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.packaging
def test_sam_validate_lint_passes():
    sam = os.environ.get("SAM_CLI")
    if not sam:
        pytest.skip("SAM_CLI is not set: run `make test`")
    completed = subprocess.run(
        [sam, "validate", "--lint", "--region", "us-east-1"],
        cwd=REPO_ROOT,
        env={**os.environ, "SAM_CLI_TELEMETRY": "0"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "is a valid SAM Template" in completed.stdout + completed.stderr
