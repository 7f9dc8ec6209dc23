"""A client generated from openapi.json by openapi-python-client (in a virtual environment of its
own, .venv-openapi, as `make test` sets it up), configured as the README says, runs a text task,
a batch upload and the results pages against the local stack."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OPENAPI_VENV = Path(os.environ.get("OPENAPI_CLIENT_VENV") or ROOT / ".venv-openapi")
HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def generated_client(tmp_path_factory) -> Path:
    generator = OPENAPI_VENV / "bin" / "openapi-python-client"
    if not generator.exists():
        pytest.skip("openapi-python-client is not installed: `make openapi-client-venv` (make test does it)")
    out = tmp_path_factory.mktemp("generated") / "client"
    generate = [str(generator), "generate", "--path", str(ROOT / "openapi.json"), "--output-path", str(out)]
    generate += ["--config", str(HERE / "openapi_client_config.yaml"), "--meta", "setup"]
    done = subprocess.run(generate, capture_output=True, text=True, timeout=300)
    # Then it generates without a warning (every schema and operation understood)
    assert done.returncode == 0 and "Warning" not in done.stdout + done.stderr, done.stdout + done.stderr
    installed = subprocess.run(
        [str(OPENAPI_VENV / "bin" / "pip"), "install", "--quiet", "--no-deps", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert installed.returncode == 0, installed.stderr
    return out


def test_the_generated_client_names_its_modules_by_tag_and_operation(generated_client):
    api = generated_client / "reviewpulse_client" / "api"
    modules = {f"{p.parent.name}/{p.stem}" for p in api.glob("*/*.py") if p.stem != "__init__"}
    assert {"tasks/create_task", "tasks/get_task", "batches/create_batch", "results/get_results"} <= modules


def test_a_text_task_a_batch_and_the_results_pages_through_the_generated_client(local, generated_client, tmp_path):
    # Given a five-row CSV
    source = tmp_path / "few.csv"
    source.write_text("id,review\n" + "".join(f'r{i},"Absolutely love it, number {i}"\n' for i in range(5)))
    # When the generated client runs a text task, the batch and its results two at a time
    done = subprocess.run(
        [str(OPENAPI_VENV / "bin" / "python"), str(HERE / "generated_client_script.py")]
        + [local["api_url"], local["api_key"], str(source)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    # Then each reached ready with its answers, in pages as documented
    assert seen["text"] == {"status": "ready", "label": "positive"}
    assert seen["upload_status"] in (200, 201, 204)
    assert seen["batch"] == {"status": "ready", "total": 5}
    assert seen["ids"] == [f"r{i}" for i in range(5)] and seen["pages"] == 3
    # And an error is the documented problem, parsed as the Problem model
    assert seen["missing_task"] == {"problem": True, "code": "not-found"}
