"""At-least-once delivery and replaced files: every row still counts exactly once, or the task
ends with a clear error. Workflows run on moto resources built from template.yaml; the only
stand-in is a queue that fails once, the way SQS does when a Lambda dies mid-split."""

from __future__ import annotations

from dataclasses import replace

import boto3
import pytest
import requests
from reviewpulse.queues import WorkQueue
from reviewpulse.results.model import ItemResult
from reviewpulse.settings import get_settings
from reviewpulse.storage.layout import parse_source_key
from reviewpulse.usecases.analyze_chunk import CountChunk, Counting, store_and_count
from reviewpulse.usecases.split import SplitObject, split_source
from reviewpulse.wiring import (
    finalize_queue,
    input_files,
    result_files,
    splitter,
    task_repository,
    work_queue,
)

from tests.integration.helpers import NEGATIVE, POSITIVE, results_of, upload


class DiesAfterFirstBatch(WorkQueue):
    """The real work queue, but the split 'dies' after its first SendMessageBatch."""

    def __init__(self, real: WorkQueue) -> None:
        self.real = real

    def send(self, messages, correlation_id, *, llm_queue=False):
        def first_batch_then_die():
            for count, message in enumerate(messages):
                # SendMessageBatch goes out 10 at a time: the first ten are on the queue by now.
                if count == 15:
                    raise TimeoutError("the split function ran out of time")
                yield message

        return self.real.send(first_batch_then_die(), correlation_id, llm_queue=llm_queue)


def test_a_split_that_died_part_way_is_redone_and_counts_once(client, poller, stack, monkeypatch):
    # Given a 30-row upload in chunks of 1, whose first split dies after 10 chunks were queued
    monkeypatch.setenv("CHUNK_MAX_ITEMS", "1")
    rows = [(POSITIVE + NEGATIVE)[i % 6] for i in range(30)]
    task_id = upload(client, "r.txt", ("\n".join(rows) + "\n").encode())
    key = f"uploads/acme/{task_id}/r.txt"
    with pytest.raises(TimeoutError):
        split_source(SplitObject(parse_source_key(key)), replace(splitter(), queue=DiesAfterFirstBatch(work_queue())))
    # And the analyzers already counted those first chunks
    poller.poll_once(next(t for t in poller.triggers if t.function == "AnalyzeChunkFunction"))
    assert client.call("GET", f"/v1/tasks/{task_id}").json()["status"] == "processing"

    # When the ingest message is delivered again and everything drains
    poller.drain()

    # Then the task is ready with every row exactly once
    task = client.call("GET", f"/v1/tasks/{task_id}").json()
    assert task["status"] == "ready"
    assert task["progress"] == {"total": 30, "processed": 30, "failed": 0}
    assert [item["row"] for item in results_of(client, task_id)] == list(range(1, 31))


def test_a_file_replaced_before_finalizing_ends_the_task_in_error(client, poller, stack, s3, bucket):
    # Given an upload that has been split
    created = client.call("POST", "/v1/batches", {"filename": "r.txt"}).json()
    post = created["upload"]
    requests.post(post["url"], data=post["fields"], files={"file": ("r.txt", "\n".join(POSITIVE).encode())}, timeout=30)
    poller.poll_once(next(t for t in poller.triggers if t.function == "SplitFunction"))
    poller.poll_once(next(t for t in poller.triggers if t.function == "SplitFunction"))

    # When the same presigned POST uploads a different file before the results are merged
    requests.post(post["url"], data=post["fields"], files={"file": ("r.txt", "\n".join(NEGATIVE).encode())}, timeout=30)
    poller.drain()

    # Then the first file's results are never joined to the second file's rows
    task = client.call("GET", f"/v1/tasks/{created['task']['task_id']}").json()
    assert task["status"] == "error" and task["error"]["code"] == "source-changed"


def test_a_losing_duplicate_never_replaces_the_counted_results(client, poller):
    # Given a text task whose chunk was counted as analysed
    task_id = client.call("POST", "/v1/tasks", {"text": POSITIVE[0], "id": "t1"}).json()["task_id"]
    poller.drain()
    assert results_of(client, task_id)[0]["label"] == "positive"

    # When a late duplicate of the chunk arrives with different results (a dead-lettered copy)
    from reviewpulse.queues import WorkItem, WorkMessage

    item = WorkItem(row=1, id="t1", text="x")
    duplicate = WorkMessage(tenant="acme", task_id=task_id, chunk=0, items=[item])
    outcome = store_and_count(
        CountChunk(duplicate, [ItemResult.failed(item, "dead-lettered", "late copy")]),
        Counting(tasks=task_repository(), result_files=result_files(), finalizer=finalize_queue()),
    )

    # Then it is not counted, and the task's results and counts are unchanged
    assert not outcome.counted
    task = client.call("GET", f"/v1/tasks/{task_id}").json()
    assert task["progress"] == {"total": 1, "processed": 1, "failed": 0}
    assert results_of(client, task_id)[0]["label"] == "positive"


def test_user_metadata_cannot_merge_two_dropped_files(client, poller, s3, bucket):
    # Given two different files dropped at the same key, both claiming the same "version" metadata
    for text in (POSITIVE[0], NEGATIVE[0]):
        s3.put_object(Bucket=bucket, Key="incoming/acme/daily.txt", Body=text.encode(), Metadata={"version": "1"})
        poller.drain()
    # Then each got its own task
    tasks = client.call("GET", "/v1/tasks").json()["items"]
    assert len(tasks) == 2 and {t["status"] for t in tasks} == {"ready"}


def test_drops_outside_a_tenant_name_are_ignored(client, poller, s3, bucket):
    s3.put_object(Bucket=bucket, Key="incoming/Not A Tenant/x.txt", Body=POSITIVE[0].encode())
    poller.drain()
    assert poller.crashes == []
    assert client.call("GET", "/v1/tasks").json()["items"] == []


def test_an_unreadable_dead_letter_is_dropped_not_retried_forever(runner, stack):
    from reviewpulse_tools.local.sqs import sqs_event

    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=stack.ref("WorkDeadLetterQueue"), MessageBody="{not json")
    messages = sqs.receive_message(QueueUrl=stack.ref("WorkDeadLetterQueue"))["Messages"]
    result = runner.invoke("DeadLetterFunction", sqs_event(messages, stack.attribute("WorkDeadLetterQueue", "Arn")))
    assert result == {"batchItemFailures": []}


def test_two_racing_finalizers_make_the_task_ready_exactly_once(client, poller, stack, s3, bucket):
    # Given a task whose chunks are all counted, with two finalize requests in flight (the last
    # chunk and a redelivery of it both saw the task complete)
    from concurrent.futures import ThreadPoolExecutor

    from reviewpulse.tasks.model import TaskStatus
    from reviewpulse.usecases.finalize import Finalizer, finalize_task

    task_id = upload(client, "race.txt", ("\n".join(POSITIVE + NEGATIVE) + "\n").encode())
    for function in ("SplitFunction", "SplitFunction", "AnalyzeChunkFunction"):
        poller.poll_once(next(t for t in poller.triggers if t.function == function))
    task = task_repository().get("acme", task_id)
    assert task.needs_finalizing and task.status is TaskStatus.PROCESSING

    # When both finalize at once
    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(
            pool.map(
                lambda _: finalize_task(
                    task, Finalizer(task_repository(), input_files(), result_files(), get_settings())
                ),
                range(2),
            )
        )

    # Then exactly one made it ready, and the merged results are whole
    assert sorted(outcomes) == [False, True]
    assert client.call("GET", f"/v1/tasks/{task_id}").json()["status"] == "ready"
    assert [item["row"] for item in results_of(client, task_id)] == list(range(1, 7))


def test_purging_an_older_drop_leaves_a_newer_drops_results(client, poller, s3, bucket):
    # Given the same path dropped twice with different content: two tasks, one set of outgoing keys
    for text in (POSITIVE[0], NEGATIVE[0]):
        s3.put_object(Bucket=bucket, Key="incoming/acme/daily.txt", Body=text.encode())
        poller.drain()
    older, newer = sorted(client.call("GET", "/v1/tasks").json()["items"], key=lambda t: t["created_at"])
    # When the older task is purged
    assert client.call("DELETE", f"/v1/tasks/{older['task_id']}", query={"purge": "true"}).status == 204
    # Then the newer task's delivered results are still there
    body = s3.get_object(Bucket=bucket, Key="outgoing/acme/daily.txt.results.csv")["Body"].read().decode()
    assert "negative" in body and client.call("GET", f"/v1/tasks/{newer['task_id']}").status == 200
