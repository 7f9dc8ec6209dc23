"""The local stack as a new user meets it: the CLI's read commands (full ids, paging, output
formats, wait), its error lines, Excel files, `keys create --local` on a given stack, and
`reviewpulse invoke` with the events AWS SAM CLI generates."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.local.test_local_stack import CLI, NEGATIVE, POSITIVE, ROOT, run_cli, wait_until_done

CLI_TASKS = [*CLI, "tasks"]


def all_task_ids(api) -> list[str]:
    ids, cursor = [], None
    while True:
        page = api.get("/v1/tasks", params={"limit": 200, **({"cursor": cursor} if cursor else {})}).json()
        ids += [task["task_id"] for task in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            return ids


def text_task(api, text: str = POSITIVE) -> str:
    task_id = api.post("/v1/tasks", json={"text": text}).json()["task_id"]
    wait_until_done(api, task_id)
    return task_id


def sam_event(*args: str) -> dict:
    sam = os.environ.get("SAM_CLI") or str(ROOT / ".venv-sam" / "bin" / "sam")
    if not Path(sam).exists():
        pytest.skip("aws-sam-cli is not installed: `make sam-venv` (make test does it)")
    done = subprocess.run(
        [sam, "local", "generate-event", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "SAM_CLI_TELEMETRY": "0"},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_tasks_shows_whole_ids_and_follows_the_pages(local, api):
    # Given at least three tasks
    for _ in range(3):
        text_task(api)
    expected = all_task_ids(api)
    narrow = {**local["env"], "COLUMNS": "40"}  # a narrow terminal cut ids before
    # When two are asked for, as a table on a narrow terminal
    two = subprocess.run(
        [*CLI_TASKS, "--limit", "2"], cwd=ROOT, env=narrow, capture_output=True, text=True, timeout=120
    )
    # Then both newest ids are there whole, and it says there are more
    assert two.returncode == 0, two.stderr
    lines = two.stdout.splitlines()
    assert lines[0].split()[0] == "task_id" and [line.split()[0] for line in lines[1:]] == expected[:2]
    assert "--all" in two.stderr
    # When every task is asked for, as CSV and as JSON
    as_csv = run_cli(local, "tasks", "--all", "--output", "csv")
    as_json = run_cli(local, "tasks", "--all", "-o", "json")
    # Then each lists every task the API pages through, in its order
    assert [row["task_id"] for row in csv.DictReader(io.StringIO(as_csv.stdout))] == expected
    assert [json.loads(line)["task_id"] for line in as_json.stdout.splitlines()] == expected


def test_status_and_results_in_each_output_format(local, api):
    task_id = text_task(api, NEGATIVE)
    # status: JSON as the API answers it, CSV as one row of dotted columns, a field/value table
    as_json = json.loads(run_cli(local, "status", task_id, "-o", "json").stdout)
    assert as_json == api.get(f"/v1/tasks/{task_id}").json() | {"links": as_json["links"]}
    (row,) = csv.DictReader(io.StringIO(run_cli(local, "status", task_id, "-o", "csv").stdout))
    assert (row["task_id"], row["status"], row["progress.total"]) == (task_id, "ready", "1")
    table = [line.split() for line in run_cli(local, "status", task_id).stdout.splitlines()]
    assert ["task_id", task_id] in table and ["status", "ready"] in table
    # results: one JSON object per item, or CSV with the label
    (item,) = [json.loads(line) for line in run_cli(local, "results", task_id).stdout.splitlines()]
    assert item["label"] == "negative"
    (result_row,) = csv.DictReader(io.StringIO(run_cli(local, "results", task_id, "-o", "csv").stdout))
    assert (result_row["id"], result_row["label"]) == (item["id"], "negative")


def test_an_analyze_that_stops_waiting_says_how_to_pick_the_task_up_and_wait_does(local, tmp_path):
    source = tmp_path / "few.csv"
    source.write_text(f"id,review\n1,{POSITIVE}\n2,{NEGATIVE}\n")
    # When analyze stops waiting at once
    stopped = run_cli(local, "analyze", str(source), "--id-field", "id", "--timeout", "0", "--no-progress")
    # Then it fails with one line naming the command that picks the task up
    assert stopped.returncode == 1 and "Traceback" not in stopped.stderr
    task_id = stopped.stderr.split("task ", 1)[1].split(":", 1)[0]
    assert f"`reviewpulse wait {task_id}`" in stopped.stderr
    # And that command waits for it and shows it
    waited = run_cli(local, "wait", task_id, "--no-progress", "-o", "json")
    assert waited.returncode == 0, waited.stderr
    assert json.loads(waited.stdout)["status"] == "ready"


def test_an_empty_text_names_the_field_at_fault(local):
    done = run_cli(local, "analyze", "--text", "")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "text: String should have at least 1 character (validation-error)" in done.stderr


def test_an_excel_file_in_and_a_bom_out(local, tmp_path):
    # Given Excel's semicolon CSV with its sep= line
    source = tmp_path / "europe.csv"
    source.write_bytes(f"sep=;\r\nid;review;city\r\n1;{POSITIVE};Besançon\r\n".encode())
    out = tmp_path / "europe.results.csv"
    # When it is analysed with --excel
    done = run_cli(local, "analyze", str(source), "--id-field", "id", "--excel", "--out", str(out), "--no-progress")
    # Then the results file starts with a BOM and has the input's three columns, whole, between
    # the input's own delimiter (what Excel reads as columns where it wrote `;`)
    assert done.returncode == 0, done.stderr
    body = out.read_bytes()
    assert body.startswith(b"\xef\xbb\xbf")
    (row,) = csv.DictReader(io.StringIO(body.decode("utf-8-sig")), delimiter=";")
    assert (row["id"], row["review"], row["city"], row["sentiment_label"]) == ("1", POSITIVE, "Besançon", "positive")


def test_keys_create_local_targets_the_stack_its_state_file_names(local, tmp_path):
    # Given a shell that does not point at this stack (no REVIEWPULSE_STATE)
    env = {k: v for k, v in local["env"].items() if k != "REVIEWPULSE_STATE"}
    env["REVIEWPULSE_STATE"] = str(tmp_path / "elsewhere.json")
    state = local["env"]["REVIEWPULSE_STATE"]
    # When a key is made with --local --state naming this stack's state file
    done = subprocess.run(
        [*CLI, "keys", "create", "--tenant", "statefile", "--local", "--state", state],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # Then it was made on that stack: the API takes it
    assert done.returncode == 0, done.stderr
    answer = httpx.get(f"{local['api_url']}/v1/tasks", headers={"X-Api-Key": done.stdout.strip()}, timeout=30)
    assert answer.status_code == 200


def test_invoke_runs_the_authorizer_first_for_a_generated_api_event(local, tmp_path):
    # Given AWS SAM CLI's own API Gateway proxy event for GET /v1/tasks, with the stack's key
    event = sam_event("apigateway", "aws-proxy", "--method", "GET", "--path", "v1/tasks", "--resource", "/v1/tasks")
    event["queryStringParameters"] = None
    keyed, unkeyed = tmp_path / "keyed.json", tmp_path / "unkeyed.json"
    keyed.write_text(json.dumps({**event, "headers": {**event["headers"], "X-Api-Key": local["api_key"]}}))
    unkeyed.write_text(json.dumps(event))
    # When it is invoked on ListTasksFunction
    answered = run_cli(local, "invoke", "ListTasksFunction", "--event", str(keyed))
    # Then the authorizer's tenant reached the function: the tenant's task list
    assert answered.returncode == 0, answered.stderr
    result = json.loads(answered.stdout)
    assert result["statusCode"] == 200 and "items" in json.loads(result["body"])
    # And without a key it is the gateway's 401, as API Gateway answers, before the function
    refused = json.loads(run_cli(local, "invoke", "ListTasksFunction", "--event", str(unkeyed)).stdout)
    assert refused["statusCode"] == 401 and json.loads(refused["body"])["code"] == "unauthorized"


def test_invoke_takes_sams_bare_s3_put_event_on_the_split_function(local, tmp_path):
    # Given `sam local generate-event s3 put` for an object outside any task (nothing to split)
    event = tmp_path / "put.json"
    event.write_text(json.dumps(sam_event("s3", "put", "--key", "uploads/local/nosuchtask/x.csv")))
    # When it is invoked on SplitFunction
    done = run_cli(local, "invoke", "SplitFunction", "--event", str(event))
    # Then it is taken as a notification, not a queue message (no KeyError: 'body')
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"records": 1}


def test_a_function_that_publishes_no_metrics_does_not_warn_about_it(local):
    done = run_cli(local, "invoke", "HealthFunction", "--event", str(ROOT / "events" / "health.json"))
    assert done.returncode == 0, done.stderr
    assert "No application metrics to publish" not in done.stderr
