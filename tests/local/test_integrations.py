"""The three ways ReviewPulse fits into other systems, on the local stack as a user runs it: task
events on the bus (a user's rule with an SQS target) and signed webhooks to a real receiver, a
drop in S3 that writes its receipt, and texts answered at once by POST /v1/analyze."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from reviewpulse_tools.doubles.webhook_receiver import WebhookReceiver
from reviewpulse_tools.local.stack import STACK_NAME

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "reviewpulse_cli"]
BUCKET = f"{STACK_NAME}-data-123456789012-us-east-1"
REVIEWS = 'review\n"Absolutely love it, works perfectly"\n"Terrible, it broke after one day"\n'


def run_cli(local, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], cwd=ROOT, env=local["env"], capture_output=True, text=True, timeout=120)


def wait_for(probe, timeout: float = 90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError("waited in vain")


def test_a_drop_with_options_talks_back_by_receipt_event_and_webhook(local, aws):
    with WebhookReceiver() as receiver:
        # Given a webhook registered with the CLI (its secret printed once) on a local receiver
        added = run_cli(local, "webhooks", "add", "--url", receiver.url)
        assert added.returncode == 0, added.stderr
        receiver.secret = added.stdout.strip()
        listed = run_cli(local, "webhooks", "list")
        assert receiver.url in listed.stdout and receiver.secret not in listed.stdout
        # And a rule of the user's on the exported event bus, whose target is an SQS queue
        sqs, events = aws("sqs"), aws("events")
        queue_url = sqs.create_queue(QueueName="my-task-events")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        bus = f"{STACK_NAME}-tasks"
        events.put_rule(Name="mine", EventBusName=bus, EventPattern=json.dumps({"source": ["reviewpulse"]}))
        events.put_targets(Rule="mine", EventBusName=bus, Targets=[{"Id": "mine", "Arn": arn}])

        # When a file is dropped with its options sidecar written first
        s3 = aws("s3")
        s3.put_object(Bucket=BUCKET, Key="incoming/local/hooks/q.csv.options.json", Body=b'{"report": true}')
        s3.put_object(Bucket=BUCKET, Key="incoming/local/hooks/q.csv", Body=REVIEWS.encode())

        # Then its done receipt appears, naming its task and the delivered files
        def receipt():
            try:
                return json.loads(
                    s3.get_object(Bucket=BUCKET, Key="outgoing/local/hooks/q.csv.done.json")["Body"].read()
                )
            except s3.exceptions.NoSuchKey:
                return None

        done = wait_for(receipt)
        assert done["counts"] == {"total": 2, "processed": 2, "failed": 0}
        assert "hooks/q.csv.report.html" in done["files"]

        # And the user's queue got the task's event from the bus
        def event():
            for message in sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1).get("Messages", []):
                body = json.loads(message["Body"])
                if body["detail"]["task_id"] == done["task_id"]:
                    return body
            return None

        announced = wait_for(event)
        assert announced["detail-type"] == "Task Ready" and announced["detail"]["type"] == "drop"
        # And the webhook received the same event, signed with its secret
        delivered = wait_for(lambda: [d for d in receiver.accepted() if d.body["detail"]["task_id"] == done["task_id"]])
        assert delivered[0].event_id == announced["detail"]["event_id"]

        # And the webhook is removed with the CLI
        (webhook_id,) = [line.split()[0] for line in listed.stdout.splitlines() if receiver.url in line]
        assert run_cli(local, "webhooks", "remove", webhook_id).returncode == 0
        assert receiver.url not in run_cli(local, "webhooks", "list").stdout


def test_a_drop_for_a_tenant_that_does_not_exist_gets_an_error_receipt(aws):
    s3 = aws("s3")
    s3.put_object(Bucket=BUCKET, Key="incoming/ghost/a.csv", Body=REVIEWS.encode())

    def receipt():
        try:
            return json.loads(s3.get_object(Bucket=BUCKET, Key="outgoing/ghost/a.csv.error.json")["Body"].read())
        except s3.exceptions.NoSuchKey:
            return None

    assert wait_for(receipt)["code"] == "unknown-tenant"


def test_texts_are_answered_at_once(api):
    response = api.post("/v1/analyze", json={"texts": ["I love it", "", "It broke"], "options": {"engine": "lexicon"}})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [(r["index"], r["label"]) for r in body["results"]] == [(0, "positive"), (2, "negative")]
    assert body["errors"] == [{"index": 1, "code": "empty-text", "detail": "the text is empty"}]
