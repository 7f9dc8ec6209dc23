"""Fixtures shared by the integration tests of task events and webhooks."""

from __future__ import annotations

import json

import boto3
import pytest
from reviewpulse.settings import get_settings
from reviewpulse_tools.doubles.webhook_receiver import WebhookReceiver


@pytest.fixture
def received(stack):
    """A queue behind a rule of the user's that matches every ReviewPulse event on the bus."""
    sqs, events = boto3.client("sqs"), boto3.client("events")
    queue_url = sqs.create_queue(QueueName="users-task-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = stack.ref("TaskEventBus")
    events.put_rule(Name="users-rule", EventBusName=bus, EventPattern=json.dumps({"source": ["reviewpulse"]}))
    events.put_targets(Rule="users-rule", EventBusName=bus, Targets=[{"Id": "q", "Arn": queue_arn}])

    def drain() -> list[dict]:
        found = []
        while True:
            messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return found
            for message in messages:
                found.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])

    return drain


@pytest.fixture
def receiver(runner, monkeypatch):
    """A receiver on 127.0.0.1, which this deployment (as the local stack does) explicitly allows;
    retries without waiting, so that a test sees them at once."""
    environment = {"WEBHOOK_ALLOWED_ADDRESSES": "127.0.0.1/32", "WEBHOOK_RETRY_BASE_SECONDS": "0"}
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
        runner.extra_environment[name] = value
    get_settings.cache_clear()
    with WebhookReceiver() as server:
        yield server
