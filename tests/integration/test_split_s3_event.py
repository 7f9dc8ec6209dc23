"""The splitter also takes a bare S3 notification (as S3 sends it to a function wired directly,
and as `sam local generate-event s3 put` writes it), not only the SQS-wrapped one the template
wires."""

from __future__ import annotations

import json
from pathlib import Path

import boto3

from tests.integration.helpers import results_of, upload

EVENT = Path(__file__).resolve().parents[2] / "events" / "split_s3_put.json"


def test_a_bare_s3_put_notification_splits_the_upload(client, runner, poller, stack, bucket):
    # Given an uploaded batch whose queued S3 notification is dropped (purged)
    task_id = upload(client, "may.csv", b'id,review\n1,I love it\n2,"Terrible, it broke"\n', id_field="id")
    boto3.client("sqs").purge_queue(QueueUrl=stack.ref("IngestQueue"))
    key = f"uploads/acme/{task_id}/may.csv"
    # When SAM's own sample S3 put event, naming that object, is handed to SplitFunction
    event = json.loads(EVENT.read_text())
    event["Records"][0]["s3"]["bucket"]["name"] = bucket
    event["Records"][0]["s3"]["object"]["key"] = key
    answer = runner.invoke("SplitFunction", event)
    poller.drain()
    # Then it was split like the queued one: the task ends ready with both rows
    assert answer == {"records": 1}
    task = client.call("GET", f"/v1/tasks/{task_id}").json()
    assert task["status"] == "ready" and task["progress"] == {"total": 2, "processed": 2, "failed": 0}
    assert [item["label"] for item in results_of(client, task_id)] == ["positive", "negative"]
