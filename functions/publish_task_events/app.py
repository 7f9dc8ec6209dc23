"""Lambda entry point of the tasks table's stream: each write that ends a task puts its event on
the bus once (the outbox; see usecases/notify.py). A put that fails fails its record, and the
stream delivers it again, with the records after it, until the bus takes it."""

from typing import Any

# Powertools' batch module before pydantic: imported after it, it builds all of its parser's
# event models (about 30 ms of CPU at a cold start), which these handlers never use.
import aws_lambda_powertools.utilities.batch  # noqa: F401
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from reviewpulse.observability import publishes_no_metrics
from reviewpulse.settings import require_settings
from reviewpulse.usecases.notify import publish_stream_record
from reviewpulse.wiring import event_bus, idempotency_store
from reviewpulse.workers import stream_lambda_handler

# What this function reads from its environment, checked at cold start; template.yaml sets
# exactly these for it (tests/unit/test_template.py holds both sides).
REQUIRED_SETTINGS = ("EVENT_BUS_NAME", "IDEMPOTENCY_TABLE_NAME")
OPTIONAL_SETTINGS = ()
require_settings(REQUIRED_SETTINGS, OPTIONAL_SETTINGS)
publishes_no_metrics()  # only ColdStart (and EventsUndelivered when the bus refuses an event)


def record_handler(record: DynamoDBRecord, lambda_context: Any = None) -> None:
    publish_stream_record(record.raw_event, sink=event_bus(), store=idempotency_store(), lambda_context=lambda_context)


handler = stream_lambda_handler(record_handler)
