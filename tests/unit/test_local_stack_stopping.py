"""A stack that is stopping is not a failing function: a poller that received a batch just then
leaves it in its queue without reporting a failure (`make demo` used to print "DeliverWebhooksFunction failed on a batch of 1"
while it stopped)."""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any

import boto3
from moto import mock_aws
from reviewpulse_tools.local.lambda_ import StackStopping
from reviewpulse_tools.local.provision import QueueTrigger
from reviewpulse_tools.local.sqs import QueuePoller


class StoppedRunner:
    """The runner after close(): every invocation is refused as the real one refuses it
    (test_execution_environments.py holds the real one to that)."""

    def __init__(self, queue_url: str) -> None:
        self.stack = SimpleNamespace(
            ref=lambda logical_id: queue_url,
            attribute=lambda logical_id, name: "arn:aws:sqs:us-east-1:123456789012:work",
            region="us-east-1",
            queue_triggers=lambda: [TRIGGER],
        )

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        raise StackStopping("Runtime.ExitError", "the local stack is stopping")


TRIGGER = QueueTrigger(function="Worker", queue="WorkQueue", batch_size=10, report_failures=True)


def test_a_batch_received_while_the_stack_stops_stays_in_its_queue_and_is_no_failure(caplog):
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="work", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="{}")
        poller = QueuePoller(StoppedRunner(url), sqs)

        with caplog.at_level(logging.WARNING):
            handled = poller.poll_once(TRIGGER)

        assert handled == 0
        assert poller.failures == 0 and poller.crashes == []
        assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
        left = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        assert [m["Body"] for m in left] == ["{}"]
