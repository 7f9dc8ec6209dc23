"""Typed messages: each queue's kinds are one discriminated union, parsed once at the handler's
edge; a body of no known kind is rejected, logged without its values, and not retried."""

from __future__ import annotations

import json

import pytest
from reviewpulse.messages import read_message
from reviewpulse.messages.dead_letters import DEAD_LETTERS
from reviewpulse.messages.ingest import INGEST_MESSAGES, S3Notification, S3TestEvent
from reviewpulse.messages.webhooks import WEBHOOK_MESSAGES, TaskEvent
from reviewpulse.queues import FinalizeRequest, SplitRequest, WorkMessage
from reviewpulse.webhooks.queue import DeliveryJob

from tests.conftest import load_event

CANARY = "customer-text-canary-4471"
TASK_ID = "0" * 28


def body_of(event_file: str) -> str:
    """The first record's body of a function's sample SQS event (events/)."""
    return load_event(event_file)["Records"][0]["body"]


@pytest.mark.parametrize(
    ("messages", "body", "kind"),
    [
        (INGEST_MESSAGES, body_of("split.json"), S3Notification),
        (INGEST_MESSAGES, json.dumps({"Event": "s3:TestEvent", "Bucket": "b"}), S3TestEvent),
        (INGEST_MESSAGES, json.dumps({"split_task": {"tenant": "acme", "task_id": TASK_ID}}), SplitRequest),
        (WEBHOOK_MESSAGES, body_of("deliver_webhooks.json"), DeliveryJob),
        (
            WEBHOOK_MESSAGES,
            # The bus's rule delivers the whole EventBridge envelope
            json.dumps(
                {
                    "version": "0",
                    "id": "e-1",
                    "detail-type": "Task Ready",
                    "source": "reviewpulse",
                    "detail": {"tenant": "acme", "task_id": TASK_ID, "event_id": "evt_" + "0" * 32},
                }
            ),
            TaskEvent,
        ),
        (DEAD_LETTERS, json.dumps({"tenant": "acme", "task_id": TASK_ID, "chunk": 0, "items": []}), WorkMessage),
        (DEAD_LETTERS, json.dumps({"tenant": "acme", "task_id": TASK_ID}), FinalizeRequest),
    ],
)
def test_each_kind_a_queue_carries_is_parsed_as_its_type(messages, body, kind):
    # Given a body of one of the queue's kinds; When it is read; Then it is that kind's type
    assert isinstance(read_message(messages, body, queue="q", message_id="m-1"), kind)


@pytest.mark.parametrize("messages", [INGEST_MESSAGES, WEBHOOK_MESSAGES, DEAD_LETTERS])
@pytest.mark.parametrize(
    "body",
    [
        "{not json " + CANARY,
        json.dumps([CANARY]),
        json.dumps({CANARY: CANARY}),
        json.dumps({"split_task": {"tenant": CANARY, "task_id": CANARY}}),
        json.dumps({"Records": [{"eventSource": CANARY}]}),
        json.dumps({"detail-type": "Task Ready", "detail": CANARY}),
        json.dumps({"tenant": "acme", "task_id": CANARY, "chunk": CANARY}),
    ],
)
def test_a_body_of_no_known_kind_is_rejected_once_without_its_values(messages, body, caplog):
    # Given a body that is none of the queue's kinds (or one of them, holding values it may not)
    # When it is read
    message = read_message(messages, body, queue="q", message_id="m-1")

    # Then nothing is handed on (the caller acknowledges it), and one error is logged, by message
    # id and where it failed, with nothing of the body's values
    assert message is None
    logged = [record for record in caplog.records if record.name.startswith("reviewpulse")]
    assert [(record.levelname, record.message_id) for record in logged] == [("ERROR", "m-1")]
    assert CANARY not in json.dumps([vars(record) for record in logged], default=str)
