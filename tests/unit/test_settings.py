"""Each function checks its settings at cold start: a missing variable stops it there, by name."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from reviewpulse.settings import MissingSettings, require_settings

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_a_missing_required_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an environment with the tasks table but no bucket
    monkeypatch.setenv("TASKS_TABLE_NAME", "tasks")
    monkeypatch.delenv("DATA_BUCKET_NAME", raising=False)
    # When a function requiring both checks its settings
    with pytest.raises(MissingSettings) as raised:
        require_settings(("TASKS_TABLE_NAME", "DATA_BUCKET_NAME"))
    # Then the error names the missing variable, and only that one
    assert "DATA_BUCKET_NAME" in str(raised.value) and "TASKS_TABLE_NAME" not in str(raised.value)


def test_an_empty_required_variable_counts_as_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASKS_TABLE_NAME", "")
    with pytest.raises(MissingSettings, match="TASKS_TABLE_NAME"):
        require_settings(("TASKS_TABLE_NAME",))


def test_a_declared_name_the_settings_do_not_read_is_refused() -> None:
    with pytest.raises(MissingSettings, match="TASKS_TABEL_NAME"):
        require_settings((), ("TASKS_TABEL_NAME",))


def test_a_function_started_without_its_variables_fails_at_cold_start_naming_them() -> None:
    # Given the analyzer's handler and an environment with none of its resource names
    app = REPO_ROOT / "functions" / "analyze_chunk" / "app.py"
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.endswith(("_TABLE_NAME", "_BUCKET_NAME", "_QUEUE_URL"))
    }
    environment |= {"AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "true"}
    # When its module is loaded, as Lambda does at cold start
    loaded = subprocess.run(
        [sys.executable, "-c", f"import runpy; runpy.run_path({str(app)!r})"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # Then it fails there, and its error (what Lambda logs as the init error) names every missing variable
    assert loaded.returncode != 0
    assert "MissingSettings" in loaded.stderr
    for name in ("TASKS_TABLE_NAME", "DATA_BUCKET_NAME", "FINALIZE_QUEUE_URL", "RESULT_CACHE_TABLE_NAME"):
        assert name in loaded.stderr
