"""The local stack's AWS process counts a queue's messages with one clock read and checks
retention by the queue's own period (tools/reviewpulse_tools/local/sqs_depth.py) instead of
moto's per-message clock reads and GetQueueAttributes: a client must read the same answers
either way, for messages waiting, in flight, delayed, past their retention and redriven."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sqs.models import sqs_backends
from reviewpulse_tools.local import sqs_depth

COUNTS = [
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
]


@pytest.fixture
def local_counting() -> Iterator[None]:
    sqs_depth.install()
    try:
        yield
    finally:
        sqs_depth.uninstall()


def _conversation(sqs: Any) -> list[Any]:
    """Messages in each state a queue holds, and what a client reads of them."""
    dead = sqs.create_queue(QueueName="dead")["QueueUrl"]
    dead_arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(
        QueueName="work",
        Attributes={
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dead_arn, "maxReceiveCount": "2"}),
            "MessageRetentionPeriod": "60",
        },
    )["QueueUrl"]
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(6)])
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=600)
    # One message older than the queue's retention period: never handed out again.
    queue = sqs_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].queues["work"]
    next(m for m in queue._messages if m.body == "m5").sent_timestamp -= 120_000
    answers = [sqs.get_queue_attributes(QueueUrl=url, AttributeNames=COUNTS)["Attributes"]]
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, VisibilityTimeout=300)["Messages"]
    answers.append(sorted(m["Body"] for m in received))
    answers.append(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=COUNTS)["Attributes"])
    # Received twice without being deleted: the third receive moves it to the dead-letter queue.
    again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=0)["Messages"]
    sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=0)
    answers.append(sorted(m["Body"] for m in again))
    rest = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=300).get("Messages", [])
    answers.append(sorted(m["Body"] for m in rest))
    answers.append(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"])
    answers.append(sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=COUNTS)["Attributes"])
    return answers


def test_a_client_reads_the_same_counts_and_messages_as_from_moto(local_counting):
    # Given moto's SQS with the local stack's counting
    with mock_aws():
        # When a client sends, delays, receives and leaves messages to expire and be redriven
        answers = _conversation(boto3.client("sqs", region_name="us-east-1"))
    with mock_aws():
        sqs_depth.uninstall()  # and moto's own, for the same conversation
        expected = _conversation(boto3.client("sqs", region_name="us-east-1"))

    # Then it read exactly what moto's own SQS answers (timestamps aside)
    moving = {"CreatedTimestamp", "LastModifiedTimestamp"}
    assert [{k: v for k, v in a.items() if k not in moving} if isinstance(a, dict) else a for a in answers] == [
        {k: v for k, v in a.items() if k not in moving} if isinstance(a, dict) else a for a in expected
    ]
    # and the states were all there: waiting, in flight, delayed, and the expired one kept back
    first = answers[0]
    assert first["ApproximateNumberOfMessagesDelayed"] == "1" and int(first["ApproximateNumberOfMessages"]) == 6
    assert "m5" not in [body for a in answers[1:5] if isinstance(a, list) for body in a]
