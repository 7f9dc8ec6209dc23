"""Conditional requests, Cache-Control and field selection, through API Gateway proxy events to the
real handlers on template.yaml's resources under moto.

ETags come from the task item's version, which every write of the task adds one to: the tests
check the version moves with every repository update, that an unchanged task answers 304 with no
body (and reads nothing but the task item), and that a changed one answers 200 with a new tag."""

from __future__ import annotations

import re
from collections.abc import Iterator

import boto3
import pytest
from reviewpulse.analysis.sentiment import Usage
from reviewpulse.aws import add_api_call_listener, remove_api_call_listener
from reviewpulse.results.summaries import Summary
from reviewpulse.tasks.model import Task, TaskError, TaskStatus, TaskType
from reviewpulse.tasks.repository import TaskRepository

from tests.integration.helpers import upload

ETAG = re.compile(r'^"[^"]+"$')  # strong: quoted, no W/


@pytest.fixture
def aws_calls() -> Iterator[list[str]]:
    recorded: list[str] = []

    def listen(service: str, operation: str, params: dict) -> None:
        recorded.append(f"{service}:{operation}")

    add_api_call_listener(listen)
    yield recorded
    remove_api_call_listener(listen)


def ready_task(client, poller, text: str = "Lovely shoes, great fit") -> str:
    task_id = client.call("POST", "/v1/tasks", {"text": text}).json()["task_id"]
    poller.drain()
    return task_id


# -- the version every update bumps ----------------------------------------------------------------


def test_every_update_of_a_task_adds_one_to_its_version(stack):
    # Given a stored batch task
    tasks = TaskRepository(stack.ref("TasksTable"), boto3.client("dynamodb"))
    task = Task.new("acme", TaskType.BATCH, TaskStatus.ACCEPTED, ttl_days=1, filename="a.csv")
    assert tasks.create(task)
    seen = [tasks.get("acme", task.task_id).version]
    # When each kind of update is applied in turn (the counting one with its ADDs)
    claimed = tasks.claim_source(task, source_key="uploads/acme/x/a.csv", source_etag="e1", correlation_id="c")
    seen.append(claimed.version)
    seen.append(tasks.record_split("acme", task.task_id, total=2, chunk_count=1, text_field="t", columns=["t"]).version)
    counted = tasks.record_chunk(
        "acme",
        task.task_id,
        chunk=0,
        attempt="a",
        processed=2,
        failed=0,
        usage=Usage(requests=1),
        answered_by={"llm": 2},
    )
    seen.append(counted.version)
    summary = Summary.model_validate({"counts": {}, "percentages": {}, "mean_score": None})
    assert tasks.mark_ready("acme", task.task_id, summary=summary, results_key="r", results_csv_key="c", usage=Usage())
    seen.append(tasks.get("acme", task.task_id).version)
    # Then the version starts at 1 and each update added exactly one
    assert seen == [1, 2, 3, 4, 5]
    # And a refused update (the task has ended) changes nothing
    assert tasks.mark_error("acme", task.task_id, TaskError(code="stalled", detail="x")) is False
    assert tasks.get("acme", task.task_id).version == 5


def test_ending_a_task_adds_one_to_its_version(stack):
    tasks = TaskRepository(stack.ref("TasksTable"), boto3.client("dynamodb"))
    for end in ("cancel", "error"):
        task = Task.new("acme", TaskType.TEXT, TaskStatus.QUEUED, ttl_days=1)
        assert tasks.create(task)
        if end == "cancel":
            assert tasks.mark_cancelled("acme", task.task_id) is not None
        else:
            assert tasks.mark_error("acme", task.task_id, TaskError(code="stalled", detail="x"))
        assert tasks.get("acme", task.task_id).version == 2, end


# -- GET /v1/tasks/{id} ----------------------------------------------------------------------------


def test_an_unchanged_task_answers_304_with_no_body_and_a_changed_one_200(client, poller, aws_calls):
    # Given a queued task, fetched once
    task_id = client.call("POST", "/v1/tasks", {"text": "Lovely shoes"}).json()["task_id"]
    first = client.call("GET", f"/v1/tasks/{task_id}")
    etag = first.headers["etag"]
    assert ETAG.match(etag)
    assert first.headers["cache-control"] == "private, no-cache"
    # When it is asked for again with its tag, unchanged
    aws_calls.clear()
    again = client.call("GET", f"/v1/tasks/{task_id}", headers={"If-None-Match": etag})
    # Then the answer is 304 with no body and the same validators, having read only the task item
    assert again.status == 304
    assert again.body == ""
    assert again.headers["etag"] == etag and again.headers["cache-control"] == "private, no-cache"
    assert [c for c in aws_calls if not c.startswith("dynamodb:GetItem")] == []
    # When the task moves on (analysed, ready) and is asked for with the old tag
    poller.drain()
    moved = client.call("GET", f"/v1/tasks/{task_id}", headers={"If-None-Match": etag})
    # Then it answers 200 with a new tag, and no-store: the view now holds the report's presigned link
    assert moved.status == 200 and moved.json()["status"] == "ready"
    assert moved.headers["etag"] != etag and ETAG.match(moved.headers["etag"])
    assert moved.headers["cache-control"] == "no-store"
    assert moved.json()["links"]["report"]
    # And the new tag in a list of tags (weakly compared, as If-None-Match is) answers 304
    listed = client.call("GET", f"/v1/tasks/{task_id}", headers={"If-None-Match": f'"x", W/{moved.headers["etag"]}'})
    assert listed.status == 304 and listed.body == ""


def test_a_tag_of_another_task_or_a_stale_one_gets_the_full_answer(client):
    one = client.call("POST", "/v1/tasks", {"text": "Lovely shoes"}).json()["task_id"]
    two = client.call("POST", "/v1/tasks", {"text": "Awful shoes"}).json()["task_id"]
    tag_of_one = client.call("GET", f"/v1/tasks/{one}").headers["etag"]
    # Two tasks, both at version 1, never share a tag
    answer = client.call("GET", f"/v1/tasks/{two}", headers={"If-None-Match": tag_of_one})
    assert answer.status == 200 and answer.json()["task_id"] == two
    # And * matches any current task, but a missing task is still 404
    assert client.call("GET", f"/v1/tasks/{one}", headers={"If-None-Match": "*"}).status == 304
    assert client.call("GET", f"/v1/tasks/{'f' * 28}", headers={"If-None-Match": "*"}).status == 404


# -- results pages ---------------------------------------------------------------------------------


def test_a_results_page_has_a_tag_per_page_and_answers_304_without_reading_the_results(client, poller, aws_calls):
    # Given a ready task of three rows, paged one at a time
    task_id = upload(client, "r.csv", b"text\nlovely\nawful\nfine\n")
    poller.drain()
    first = client.call("GET", f"/v1/tasks/{task_id}/results", query={"limit": "1"})
    assert first.status == 200
    etag, cache_control = first.headers["etag"], first.headers["cache-control"]
    assert ETAG.match(etag)
    max_age = int(re.fullmatch(r"private, max-age=(\d+)", cache_control).group(1))
    assert 0 < max_age <= 1800  # ends while the page's one-hour links have half their life left
    # When the same page is asked for with its tag
    aws_calls.clear()
    again = client.call("GET", f"/v1/tasks/{task_id}/results", query={"limit": "1"}, headers={"If-None-Match": etag})
    # Then 304, no body, having read only the task item (no results file, no presigning)
    assert again.status == 304 and again.body == ""
    assert again.headers["etag"] == etag
    assert [c for c in aws_calls if not c.startswith(("dynamodb:GetItem", "secretsmanager:"))] == []
    # And every other page, limit or field selection has a tag of its own
    second = client.call(
        "GET", f"/v1/tasks/{task_id}/results", query={"limit": "1", "cursor": first.json()["next_cursor"]}
    )
    other_limit = client.call("GET", f"/v1/tasks/{task_id}/results", query={"limit": "2"})
    selected = client.call("GET", f"/v1/tasks/{task_id}/results", query={"limit": "1", "fields": "id,label"})
    tags = {etag, second.headers["etag"], other_limit.headers["etag"], selected.headers["etag"]}
    assert len(tags) == 4
    # And a tag never makes a forged cursor or a task that is not ready answer 304
    forged = client.call("GET", f"/v1/tasks/{task_id}/results", query={"cursor": "e30"}, headers={"If-None-Match": "*"})
    assert forged.status == 400 and forged.json()["code"] == "invalid-cursor"


def test_creating_a_batch_says_no_store(client):
    created = client.call("POST", "/v1/batches", {"filename": "a.csv"})
    assert created.status == 201
    assert created.headers["cache-control"] == "no-store"


# -- fields ----------------------------------------------------------------------------------------


def test_fields_keep_only_the_named_fields_of_each_result(client, poller):
    task_id = upload(client, "r.csv", b"id,text\nA1,lovely\nA2,awful\n", id_field="id")
    poller.drain()
    full = client.call("GET", f"/v1/tasks/{task_id}/results").json()
    # When the page is asked for with fields=id,label,score
    picked = client.call("GET", f"/v1/tasks/{task_id}/results", query={"fields": "id,label,score"}).json()
    # Then each item has exactly those fields, with the values of the full page
    assert [set(item) for item in picked["items"]] == [{"id", "label", "score"}] * 2
    assert picked["items"] == [{k: item[k] for k in ("id", "label", "score")} for item in full["items"]]
    # And the page's own fields are kept
    assert set(picked) == {"items", "next_cursor", "files"}


def test_fields_on_the_task_list(client):
    client.call("POST", "/v1/tasks", {"text": "Lovely shoes"})
    page = client.call("GET", "/v1/tasks", query={"fields": "task_id, status"})
    assert page.status == 200
    assert [set(item) for item in page.json()["items"]] == [{"task_id", "status"}]


@pytest.mark.parametrize("fields", ["id,colour", "", "id,", "ID", "items", "id,label,score,x" * 50])
def test_an_unknown_field_is_400_with_the_allowed_ones(client, poller, fields):
    task_id = ready_task(client, poller)
    answer = client.call("GET", f"/v1/tasks/{task_id}/results", query={"fields": fields})
    assert answer.status == 400
    problem = answer.json()
    assert problem["code"] == "invalid-fields"
    assert "row, id, label, score" in problem["detail"]
    # The names sent are never echoed
    assert "colour" not in problem["detail"]
