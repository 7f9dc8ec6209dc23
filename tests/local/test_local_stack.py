"""The local stack as a user runs it: `reviewpulse dev` in its own process, then everything over
HTTP — the API on localhost, moto's S3 for uploads and drops — and the CLI against it."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from reviewpulse.tenants.keys import KeyRepository
from reviewpulse_tools.local.apigateway import INTEGRATION_TIMEOUT_SECONDS
from reviewpulse_tools.local.stack import STACK_NAME

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "reviewpulse_cli"]
EVENTS = sorted((ROOT / "events").glob("*.json"))
POSITIVE = "Absolutely love it, works perfectly"
NEGATIVE = "Terrible, it broke after one day"


def wait_until_done(api, task_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = api.get(f"/v1/tasks/{task_id}").json()
        if task["status"] in ("ready", "error"):
            return task
        time.sleep(0.2)
    raise AssertionError(f"task {task_id} did not finish: {task}")


def run_cli(
    local, *args: str, timeout: float = 120, cwd: Path = ROOT, env_columns: int | None = None
) -> subprocess.CompletedProcess:
    env = {**local["env"], "COLUMNS": str(env_columns)} if env_columns else local["env"]
    return subprocess.run([*CLI, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def test_health_answers_without_a_key(local):
    assert httpx.get(f"{local['api_url']}/health", timeout=INTEGRATION_TIMEOUT_SECONDS).json()["status"] == "ok"


def test_a_single_text_reaches_ready(api):
    task = api.post("/v1/tasks", json={"text": POSITIVE, "id": "t-1"}).json()
    done = wait_until_done(api, task["task_id"])
    assert done["status"] == "ready" and done["summary"]["counts"]["positive"] == 1
    assert api.get(f"/v1/tasks/{task['task_id']}/results").json()["items"][0]["id"] == "t-1"


def test_a_csv_batch_uploaded_by_presigned_post_reaches_ready(api):
    # Given a batch and its presigned POST, which points at the local S3
    created = api.post("/v1/batches", json={"filename": "b.csv", "id_field": "ref"}).json()
    content = "ref,review\n" + "".join(f'r{i},"{POSITIVE if i % 2 else NEGATIVE}"\n' for i in range(1, 41))
    upload = created["upload"]
    response = httpx.post(upload["url"], data=upload["fields"], files={"file": ("b.csv", content.encode())}, timeout=30)
    assert response.status_code in (200, 204)

    # When the pollers feed split, analyze and finalize
    task = wait_until_done(api, created["task"]["task_id"])

    # Then every row has its result, joined to its own columns in the CSV
    assert task["status"] == "ready" and task["progress"] == {"total": 40, "processed": 40, "failed": 0}
    page = api.get(f"/v1/tasks/{task['task_id']}/results", params={"limit": 1}).json()
    assert "files" in page, page
    rows = list(csv.DictReader(io.StringIO(httpx.get(page["files"]["csv"], timeout=30).text)))
    assert [(r["ref"], r["sentiment_label"]) for r in rows] == [
        (f"r{i}", "positive" if i % 2 else "negative") for i in range(1, 41)
    ]


def test_an_incoming_drop_comes_back_in_outgoing(local, aws):
    s3 = aws("s3")
    bucket = f"{STACK_NAME}-data-123456789012-us-east-1"
    s3.put_object(Bucket=bucket, Key="incoming/local/crm/export.txt", Body=f"{POSITIVE}\n{NEGATIVE}\n".encode())
    deadline = time.monotonic() + 60
    while True:
        try:
            body = s3.get_object(Bucket=bucket, Key="outgoing/local/crm/export.txt.results.csv")["Body"].read()
            break
        except s3.exceptions.NoSuchKey:
            assert time.monotonic() < deadline, "no results appeared under outgoing/"
            time.sleep(0.3)
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert [r["sentiment_label"] for r in rows] == ["positive", "negative"]


def test_a_bad_file_ends_in_error(api):
    created = api.post("/v1/batches", json={"filename": "bad.csv"}).json()
    upload = created["upload"]
    httpx.post(upload["url"], data=upload["fields"], files={"file": ("bad.csv", b"\x00\x01\x02" * 100)}, timeout=30)
    task = wait_until_done(api, created["task"]["task_id"])
    assert task["status"] == "error" and task["error"]["code"] == "not-text"


def test_a_wrong_key_does_not_break_the_authorizer(local):
    # Given a request with a key nobody issued
    wrong = httpx.get(
        f"{local['api_url']}/v1/tasks", headers={"X-Api-Key": "rp_nobody"}, timeout=INTEGRATION_TIMEOUT_SECONDS
    )
    assert wrong.status_code == 401 and wrong.json()["code"] == "unauthorized"
    # Then a key created afterwards still works
    created = run_cli(local, "keys", "create", "--tenant", "later", "--local")
    assert created.returncode == 0, created.stderr
    fresh = httpx.get(
        f"{local['api_url']}/v1/tasks",
        headers={"X-Api-Key": created.stdout.strip()},
        timeout=INTEGRATION_TIMEOUT_SECONDS,
    )
    assert fresh.status_code == 200


def test_another_tenants_task_is_404(local, api):
    task_id = api.post("/v1/tasks", json={"text": POSITIVE}).json()["task_id"]
    created = run_cli(local, "keys", "create", "--tenant", "other", "--local")
    assert created.returncode == 0, created.stderr
    other_key = created.stdout.strip()
    answer = httpx.get(
        f"{local['api_url']}/v1/tasks/{task_id}", headers={"X-Api-Key": other_key}, timeout=INTEGRATION_TIMEOUT_SECONDS
    )
    assert answer.status_code == 404 and answer.json()["code"] == "not-found"
    assert answer.headers["content-type"] == "application/problem+json"


def test_the_cli_analyses_a_file_and_writes_its_results(local, tmp_path):
    source = tmp_path / "reviews.jsonl"
    source.write_text(
        "\n".join(json.dumps({"id": f"j{i}", "text": t}) for i, t in enumerate([POSITIVE, NEGATIVE])) + "\n"
    )
    out = tmp_path / "out.csv"
    done = run_cli(local, "analyze", str(source), "--id-field", "id", "--out", str(out), "--no-progress")
    assert done.returncode == 0, done.stderr
    assert "positive" in done.stdout and "2 analysed of 2 rows" in done.stdout
    rows = list(csv.DictReader(out.open()))
    assert [(r["id"], r["sentiment_label"]) for r in rows] == [("j0", "positive"), ("j1", "negative")]
    one = run_cli(local, "analyze", "--text", NEGATIVE)
    assert one.returncode == 0 and "negative" in one.stdout


def test_the_cli_runs_an_llm_task_with_aspects_and_a_report(local, tmp_path):
    # Given the stack serving the llm engine from its fake server, and a small CSV
    source = tmp_path / "reviews.csv"
    with source.open("w", newline="") as handle:
        csv.writer(handle).writerows(
            [["id", "review"], ["r1", f"The battery is great. {POSITIVE}"], ["r2", f"The battery is awful. {NEGATIVE}"]]
        )
    out = tmp_path / "out.csv"
    # When the CLI analyses it with the llm engine, an aspect and a report (written in the current
    # folder: the test's own, or a second run would find the first one's report there)
    done = run_cli(
        local, "analyze", str(source), "--id-field", "id", "--out", str(out), "--no-progress",
        "--engine", "llm", "--aspects", "battery", "--report", cwd=tmp_path,
    )  # fmt: skip
    # Then it prints the LLM's usage and the report, and the CSV holds the aspect's columns
    assert done.returncode == 0, done.stderr
    # (two requests: one for both rows, one for the report's executive summary)
    assert "LLM: 2 requests" in done.stdout and "2 analysed of 2 rows" in done.stdout
    rows = list(csv.DictReader(out.open()))
    assert [r["sentiment_engine"] for r in rows] == ["llm", "llm"]
    assert [r["aspect_battery"] for r in rows] == ["positive", "negative"]
    assert all(r["aspect_battery_evidence"] in r["review"] and r["aspect_battery_evidence"] for r in rows)
    assert "battery" in done.stdout  # a theme of the report
    assert (tmp_path / "reviews.report.html").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        # (--out: a results file no run leaves behind, which analyze would refuse to overwrite first)
        (
            ["analyze", "samples/reviews.csv", "--api-key", "rp_wrong", "--out", ".never-written.csv"],
            "the API key was refused",
        ),
        (["status", "0" * 28], "no such task"),
        (["analyze", "Makefile"], "cannot tell its format"),
        (["analyze", "nope.csv"], "no such file"),
        (["tasks", "--endpoint", "http://127.0.0.1:9"], "cannot reach http://127.0.0.1:9"),
    ],
)
def test_cli_failures_are_one_clear_line(local, args, message):
    done = run_cli(local, *args)
    assert done.returncode in (1, 2)
    assert message in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("event_file", EVENTS, ids=[p.stem for p in EVENTS])
def test_every_sample_event_runs_through_the_invoke_command(local, aws, event_file, tmp_path):
    # Given the sample authorizer event's key registered for its tenant
    sample_key = json.loads((ROOT / "events" / "authorizer.json").read_text())["headers"]["X-Api-Key"]
    keys = KeyRepository(f"{STACK_NAME}-KeysTable", aws("dynamodb"))
    if keys.find(sample_key) is None:
        keys.add(sample_key, "example")
    function = {
        "create_task": "CreateTaskFunction",
        "create_batch": "CreateBatchFunction",
        "get_task": "GetTaskFunction",
        "sweeper": "SweeperFunction",
        "collect_batches": "CollectBatchesFunction",
        "delete_task": "DeleteTaskFunction",
        "start_task": "StartTaskFunction",
        "resume_task": "ResumeTaskFunction",
        "get_results": "GetResultsFunction",
        "get_insights": "GetInsightsFunction",
        "list_tasks": "ListTasksFunction",
        "health": "HealthFunction",
        "authorizer": "AuthorizerFunction",
        "split": "SplitFunction",
        "split_drop": "SplitFunction",
        "split_s3_put": "SplitFunction",
        "analyze_chunk": "AnalyzeChunkFunction",
        "finalize": "FinalizeFunction",
        "dead_letter": "DeadLetterFunction",
        "dead_letter_finalize": "DeadLetterFunction",
        "analyze_texts": "AnalyzeTextsFunction",
        "create_webhook": "CreateWebhookFunction",
        "list_webhooks": "ListWebhooksFunction",
        "delete_webhook": "DeleteWebhookFunction",
        "rotate_webhook_secret": "RotateWebhookSecretFunction",
        "erase_tenant_data": "EraseTenantDataFunction",
        "rotate_cursor_key": "CursorKeyRotationFunction",
        "deliver_webhooks": "DeliverWebhooksFunction",
        "publish_task_events": "PublishTaskEventsFunction",
        "create_model": "CreateModelFunction",
        "list_models": "ListModelsFunction",
        "get_model": "GetModelFunction",
        "delete_model": "DeleteModelFunction",
        "set_default_model": "SetDefaultModelFunction",
        "train_model": "TrainModelFunction",
    }[event_file.stem]
    if function == "CursorKeyRotationFunction":
        # The sample names a deployed secret's ARN; the rotation function rotates only its own.
        event = json.loads(event_file.read_text())
        event["SecretId"] = aws("secretsmanager").describe_secret(SecretId=f"{STACK_NAME}-cursor-signing")["ARN"]
        event_file = tmp_path / event_file.name
        event_file.write_text(json.dumps(event))
    done = run_cli(local, "invoke", function, "--event", str(event_file))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    records = json.loads(event_file.read_text()).get("Records")
    if records and records[0].get("eventSource") == "aws:s3":
        assert result == {"records": len(records)}  # a bare S3 notification
    elif records:
        assert result == {"batchItemFailures": []}
    elif function == "AuthorizerFunction":
        assert result["context"]["tenant"] == "example"
    elif function == "CursorKeyRotationFunction":
        assert result == {"step": "setSecret"}
    elif function == "SweeperFunction":
        assert set(result) == {"examined", "ended", "models_failed"}
    elif function == "CollectBatchesFunction":
        assert set(result) == {"tasks", "submitted", "answers", "counted", "failed"}
    else:
        assert result["statusCode"] < 500
