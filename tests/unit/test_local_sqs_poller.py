"""The local stack's queue pollers say when a ReceiveMessage attempt failed and botocore tried it
again on its own (tools/reviewpulse_tools/local/sqs.py): messages moto took for the failed
attempt come back only after their queue's visibility timeout, so a task stuck long after a load
has its cause in the stack's log."""

from __future__ import annotations

import logging
import socket
import threading
from types import SimpleNamespace

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError
from reviewpulse_tools.local.sqs import QueuePoller


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again when the block ends: connections are refused


def _refusing_poller() -> QueuePoller:
    """A poller whose SQS endpoint refuses connections, with one retry allowed."""
    sqs = boto3.client(
        "sqs",
        endpoint_url=f"http://127.0.0.1:{_closed_port()}",
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 (the local stack's)
        config=Config(retries={"max_attempts": 2, "mode": "legacy"}),
    )
    stack = SimpleNamespace(queue_triggers=list, ref=lambda name: f"http://127.0.0.1/000000000000/{name}")
    return QueuePoller(SimpleNamespace(stack=stack), sqs)


TRIGGER = SimpleNamespace(queue="WorkQueue", batch_size=1)


def _receive_warnings(caplog, poller: QueuePoller) -> list[str]:
    with caplog.at_level(logging.WARNING, logger="reviewpulse.local"), pytest.raises(EndpointConnectionError):
        poller.receive(TRIGGER)
    return [r.getMessage() for r in caplog.records if "ReceiveMessage attempt" in r.getMessage()]


def test_a_failed_receive_attempt_is_logged(caplog):
    # Given a poller whose SQS endpoint refuses connections
    poller = _refusing_poller()

    # When it receives, then each failed attempt is a warning naming what failed
    failed = _receive_warnings(caplog, poller)
    assert failed and all("EndpointConnectionError" in message for message in failed)


def test_while_the_stack_stops_a_failed_receive_is_no_warning(caplog):
    # Given a poller of a stack that is stopping (moto's process goes before the pollers end)
    poller = _refusing_poller()
    stop = threading.Event()
    stop.set()
    poller.run(TRIGGER, stop)  # returns at once: it is handed the stack's stop event

    # When a receive fails then, it says nothing (`make demo` printed a warning per poller at its end)
    assert _receive_warnings(caplog, poller) == []
