"""A split that runs short of its function's time hands the rest on at once, through its own ingest
queue, instead of timing out and waiting out the queue's visibility timeout (usecases/split_pacing.py).
Every row is still queued and counted exactly once."""

from __future__ import annotations

import json
import math

import boto3
import pytest
from reviewpulse.tasks.model import TaskStatus
from reviewpulse.wiring import task_repository

from tests.integration.helpers import NEGATIVE, POSITIVE, results_of, upload

ROWS, CHUNK = 20, 2


@pytest.fixture
def out_of_time(runner, monkeypatch):
    """The splitter as deployed, but every invocation starts with its hand-on time already past."""
    module = runner.module("SplitFunction")
    timeout = int(runner.stack.function_properties("SplitFunction")["Timeout"])
    monkeypatch.setattr(module, "HAND_ON_SECONDS", timeout + 1)
    return module


def queued_chunks(stack) -> list[dict]:
    """Every message on the work queue, read and then made visible again for the analyzers."""
    sqs, url = boto3.client("sqs"), stack.ref("WorkQueue")
    bodies, handles = [], []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600).get(
        "Messages", []
    ):
        bodies += [json.loads(m["Body"]) for m in messages]
        handles += [m["ReceiptHandle"] for m in messages]
    for handle in handles:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
    return bodies


def test_a_split_out_of_time_hands_on_until_every_chunk_is_queued_once(
    client, runner, poller, stack, monkeypatch, out_of_time
):
    # Given a 20-row upload in chunks of 2, and a splitter whose every invocation is out of time
    monkeypatch.setenv("CHUNK_MAX_ITEMS", str(CHUNK))
    rows = [(POSITIVE + NEGATIVE)[i % 6] for i in range(ROWS)]
    trigger = next(t for t in poller.triggers if t.function == "SplitFunction")
    while poller.poll_once(trigger):  # (S3's test event, sent when the stack was set up)
        pass
    before = runner.invocations.get("SplitFunction", 0)
    task_id = upload(client, "r.txt", ("\n".join(rows) + "\n").encode())

    # When the ingest queue's messages (the S3 event, then each hand-on's request) are handed to it
    # as Lambda hands them, until none is left
    while poller.poll_once(trigger):
        pass

    # Then each invocation queued one chunk and handed the rest on: no chunk was queued twice
    chunks = math.ceil(ROWS / CHUNK)
    assert runner.invocations["SplitFunction"] - before == chunks
    bodies = queued_chunks(stack)
    assert sorted(body["chunk"] for body in bodies) == list(range(chunks))
    assert sorted(item["row"] for body in bodies for item in body["items"]) == list(range(1, ROWS + 1))
    # And the split was recorded whole once its last chunk was queued
    task = task_repository().get("acme", task_id)
    assert (task.chunk_count, task.progress.total, task.split_next_chunk) == (chunks, ROWS, chunks - 1)

    # And once the analyzers have run, the task is ready with every row exactly once
    poller.drain()
    task = client.call("GET", f"/v1/tasks/{task_id}").json()
    assert task["status"] == "ready"
    assert task["progress"] == {"total": ROWS, "processed": ROWS, "failed": 0}
    assert [item["row"] for item in results_of(client, task_id)] == list(range(1, ROWS + 1))


def test_of_two_copies_of_one_hand_on_only_the_first_moves_the_checkpoint(client, stack):
    # Given a batch task being split, handed on once at chunk 3
    task_id = client.call("POST", "/v1/batches", {"filename": "r.txt"}).json()["task"]["task_id"]
    tasks = task_repository()
    task = tasks.get("acme", task_id)
    tasks.claim_source(task, source_key=f"uploads/acme/{task_id}/r.txt", source_etag="e", correlation_id=None)
    assert tasks.hand_on_split("acme", task_id, seen=None, next_chunk=3).split_next_chunk == 3

    # When two copies of the resumed split each hand on from that checkpoint
    first = tasks.hand_on_split("acme", task_id, seen=3, next_chunk=5)
    second = tasks.hand_on_split("acme", task_id, seen=3, next_chunk=6)
    # Then only the first moves it; the second sees it moved and leaves the rest to the first
    assert first is not None and first.split_next_chunk == 5 and second is None
    # And once the file is recorded whole, no late copy moves it again
    tasks.record_split("acme", task_id, total=10, chunk_count=7, text_field="text", columns=["text"])
    assert tasks.hand_on_split("acme", task_id, seen=5, next_chunk=6) is None
    assert tasks.get("acme", task_id).status is TaskStatus.QUEUED
