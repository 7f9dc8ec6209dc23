"""Issue 9, items 2, 3(b) and 4: no message can wedge the splitter, it reads only the object its
task was made for, and a new drop of the same bytes is analysed again while a duplicated event
still makes one task. Resources from template.yaml under moto; S3 notifications arrive on the
ingest queue as moto delivers them, or in the shape of events/split_drop.json."""

from __future__ import annotations

import json
import time

import boto3
from reviewpulse.settings import get_settings
from reviewpulse_tools.local.lambda_ import FunctionRunner
from reviewpulse_tools.local.sqs import QueuePoller

from tests.conftest import load_event
from tests.integration.helpers import NEGATIVE, POSITIVE, results_of, upload


def ingest_messages(stack) -> list[dict]:
    """Take every message off the ingest queue (S3's notifications), as a worker would receive them."""
    sqs = boto3.client("sqs")
    messages = []
    while batch := sqs.receive_message(QueueUrl=stack.ref("IngestQueue"), MaxNumberOfMessages=10).get("Messages"):
        messages += batch
        for message in batch:
            sqs.delete_message(QueueUrl=stack.ref("IngestQueue"), ReceiptHandle=message["ReceiptHandle"])
    return [m for m in messages if json.loads(m["Body"]).get("Event") != "s3:TestEvent"]


def deliver(stack, body: str, times: int = 1) -> None:
    for _ in range(times):
        boto3.client("sqs").send_message(QueueUrl=stack.ref("IngestQueue"), MessageBody=body)


def queue_depth(stack, queue: str) -> int:
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=stack.ref(queue), AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


# ---- item 2: a split that fails on every delivery ends its task within its own retries ---------


def test_a_split_that_fails_on_every_delivery_ends_its_task_on_the_last(client, stack, s3, bucket):
    # Given an uploaded file, and a splitter whose work queue is gone, so every delivery fails
    task_id = upload(client, "r.txt", ("\n".join(POSITIVE) + "\n").encode())
    missing_queue = stack.ref("WorkQueue") + "-gone"
    broken = FunctionRunner(stack, function_environment={"SplitFunction": {"WORK_QUEUE_URL": missing_queue}})
    get_settings.cache_clear()  # the functions share one process: read the splitter's environment
    poller = QueuePoller(broken, boto3.client("sqs"))

    # When the ingest queue is drained, redelivering after each failure
    poller.drain()

    # Then every delivery but the queue's last failed, and the last ended the task with a clear code
    max_receive_count = int(stack.function_environment("SplitFunction")["INGEST_MAX_RECEIVE_COUNT"])
    assert poller.failures == max_receive_count - 1
    task = client.call("GET", f"/v1/tasks/{task_id}").json()
    assert task["status"] == "error"
    assert task["error"]["code"] == "split-failed"
    assert "QueueDoesNotExist" in task["error"]["detail"]  # the failure's kind, never the file's content
    # And the message did not go to the dead-letter queue silently
    assert queue_depth(stack, "IngestDeadLetterQueue") == 0


def test_a_failure_before_the_last_delivery_is_retried_and_can_still_succeed(client, stack, poller):
    # Given an uploaded file whose first split fails (its work queue is gone for that delivery)
    task_id = upload(client, "r.txt", ("\n".join(POSITIVE + NEGATIVE) + "\n").encode())
    broken = FunctionRunner(
        stack, function_environment={"SplitFunction": {"WORK_QUEUE_URL": stack.ref("WorkQueue") + "-gone"}}
    )
    get_settings.cache_clear()
    broken_poller = QueuePoller(broken, boto3.client("sqs"))
    split_trigger = next(t for t in broken_poller.triggers if t.function == "SplitFunction")
    while broken_poller.poll_once(split_trigger) and broken_poller.failures == 0:
        pass  # past S3's test event, up to the first failed delivery
    assert broken_poller.failures == 1
    get_settings.cache_clear()
    assert client.call("GET", f"/v1/tasks/{task_id}").json()["status"] == "queued"

    # When the queue is back and the message is delivered again
    get_settings.cache_clear()
    poller.drain()

    # Then the task is ready with every row
    task = client.call("GET", f"/v1/tasks/{task_id}").json()
    assert task["status"] == "ready" and task["progress"] == {"total": 6, "processed": 6, "failed": 0}


# ---- item 3(b): the splitter reads only the object its task was made for -------------------------


def test_an_object_under_a_task_prefix_with_another_name_ends_the_task(client, poller, s3, bucket):
    # Given a batch task waiting for "r.txt", and a different object put under its prefix
    created = client.call("POST", "/v1/batches", {"filename": "r.txt"})
    task_id = created.json()["task"]["task_id"]
    s3.put_object(Bucket=bucket, Key=f"uploads/acme/{task_id}/other.txt", Body=POSITIVE[0].encode())

    # When the splitter sees it
    poller.drain()

    # Then the task ends in error with a clear code, and nothing was analysed
    task = client.call("GET", f"/v1/tasks/{task_id}").json()
    assert task["status"] == "error" and task["error"]["code"] == "source-mismatch"
    assert task["progress"]["total"] is None and task["progress"]["processed"] == 0
    assert poller.crashes == []


def test_a_drop_larger_than_the_maximum_ends_its_task_with_nothing_analysed(client, stack, s3, bucket):
    # Given a splitter whose maximum file size is 1,000 bytes, and a 2,000-byte drop
    small = FunctionRunner(stack, function_environment={"SplitFunction": {"MAX_UPLOAD_BYTES": "1000"}})
    get_settings.cache_clear()
    body = ("\n".join([POSITIVE[0]] * 200) + "\n").encode()[:2000]
    s3.put_object(Bucket=bucket, Key="incoming/acme/big.txt", Body=body)

    # When the splitter sees it
    poller = QueuePoller(small, boto3.client("sqs"))
    poller.drain()

    # Then its task ends in error at once, and no chunk was queued
    get_settings.cache_clear()
    (task,) = client.call("GET", "/v1/tasks").json()["items"]
    assert task["status"] == "error" and task["error"]["code"] == "file-too-large"
    assert "2000 bytes" in task["error"]["detail"]
    assert poller.failures == 0 and task["progress"]["total"] is None
    assert queue_depth(stack, "WorkQueue") == 0


# ---- item 4: a new drop of identical bytes is a new task; a duplicated event is not --------------


def test_the_same_bytes_dropped_again_at_the_same_key_are_analysed_again(client, poller, s3, bucket):
    # Given a drop that was analysed, whose outgoing results the consumer then deleted
    key, body = "incoming/acme/daily.txt", ("\n".join(POSITIVE) + "\n").encode()
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    poller.drain()
    s3.delete_object(Bucket=bucket, Key="outgoing/acme/daily.txt.results.csv")
    time.sleep(0.01)  # moto stamps its events to the millisecond: a later write is a later event

    # When the same bytes are dropped at the same key again
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    poller.drain()

    # Then a second task analysed them, and the results are back
    tasks = client.call("GET", "/v1/tasks").json()["items"]
    assert [(t["type"], t["status"]) for t in tasks] == [("drop", "ready")] * 2
    assert len({t["task_id"] for t in tasks}) == 2
    s3.head_object(Bucket=bucket, Key="outgoing/acme/daily.txt.results.csv")


def test_a_duplicated_drop_event_makes_one_task(client, poller, stack, s3, bucket):
    # Given a drop whose S3 notification moto delivered, then delivered again (at least once)
    s3.put_object(Bucket=bucket, Key="incoming/acme/daily.txt", Body=("\n".join(NEGATIVE) + "\n").encode())
    (message,) = ingest_messages(stack)
    deliver(stack, message["Body"], times=2)

    # When the splitter handles both deliveries
    poller.drain()

    # Then there is one task, with each row once
    (task,) = client.call("GET", "/v1/tasks").json()["items"]
    assert task["status"] == "ready" and task["progress"] == {"total": 3, "processed": 3, "failed": 0}
    assert [item["row"] for item in results_of(client, task["task_id"])] == [1, 2, 3]


def test_s3_sequencers_tell_a_duplicated_event_from_a_new_write(client, poller, stack, s3, bucket):
    # Given a dropped file, and S3 events in the shape of events/split_drop.json for it: one
    # delivered twice, and one with a later sequencer (a new write of the same bytes)
    key = "incoming/acme/shop/reviews export.txt"
    s3.put_object(Bucket=bucket, Key=key, Body=("\n".join(POSITIVE) + "\n").encode())
    ingest_messages(stack)  # moto's own notification (without a sequencer) is not used here
    template = json.loads(load_event("split_drop.json")["Records"][0]["body"])

    def event(sequencer: str) -> str:
        record = template["Records"][0]
        record["s3"]["bucket"]["name"] = bucket
        record["s3"]["object"].update(key="incoming/acme/shop/reviews+export.txt", sequencer=sequencer)
        return json.dumps(template)

    first, later = event("0A1B2C3D4E5F678901"), event("0A1B2C3D4E5F67890F")
    deliver(stack, first, times=2)
    deliver(stack, later)

    # When the splitter handles them
    poller.drain()

    # Then the duplicated event made one task and the new write another, each with every row once
    tasks = client.call("GET", "/v1/tasks").json()["items"]
    assert [(t["status"], t["progress"]["total"], t["progress"]["processed"]) for t in tasks] == [("ready", 3, 3)] * 2


def test_a_late_duplicate_of_an_event_makes_no_task_after_the_key_was_written_again(client, poller, stack, s3, bucket):
    # Given a drop analysed from its event, then new bytes written to the same key with their event
    key = "incoming/acme/daily.txt"
    template = json.loads(load_event("split_drop.json")["Records"][0]["body"])

    def event(sequencer: str) -> str:
        record = template["Records"][0]
        record["s3"]["bucket"]["name"] = bucket
        record["s3"]["object"].update(key=key, sequencer=sequencer)
        return json.dumps(template)

    s3.put_object(Bucket=bucket, Key=key, Body=("\n".join(POSITIVE) + "\n").encode())
    ingest_messages(stack)  # moto's own notifications (without a sequencer) are not used here
    deliver(stack, event("0000000000000000A1"))
    poller.drain()
    s3.put_object(Bucket=bucket, Key=key, Body=("\n".join(NEGATIVE) + "\n").encode())
    ingest_messages(stack)
    deliver(stack, event("0000000000000000B2"))
    poller.drain()

    # When the first event is delivered once more, late
    deliver(stack, event("0000000000000000A1"))
    poller.drain()

    # Then there are still two tasks, one per write
    tasks = client.call("GET", "/v1/tasks").json()["items"]
    assert [t["status"] for t in tasks] == ["ready", "ready"]
