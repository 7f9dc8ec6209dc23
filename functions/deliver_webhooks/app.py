"""Lambda entry point of webhook deliveries: the webhook queue holds the bus's task events (a rule
of the stack sends them) and the deliveries they fan out to, each attempt or retry one message."""

import time

# Powertools' batch module before pydantic: imported after it, it builds all of its parser's
# event models (about 30 ms of CPU at a cold start), which these handlers never use.
import aws_lambda_powertools.utilities.batch  # noqa: F401
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from reviewpulse.messages import read_message
from reviewpulse.messages.webhooks import WEBHOOK_MESSAGES, TaskEvent
from reviewpulse.settings import require_settings
from reviewpulse.usecases.deliver_webhooks import deliver, fan_out
from reviewpulse.wiring import webhook_deliveries
from reviewpulse.workers import sqs_lambda_handler

# What this function reads from its environment, checked at cold start; template.yaml sets
# exactly these for it (tests/unit/test_template.py holds both sides). WEBHOOK_ALLOWED_ADDRESSES
# is set only by the local stack (test receivers on 127.0.0.1), never by the template.
REQUIRED_SETTINGS = (
    "WEBHOOKS_TABLE_NAME",
    "WEBHOOK_SECRETS_KEY_ID",
    "WEBHOOK_QUEUE_URL",
    "WEBHOOK_DEAD_LETTER_QUEUE_URL",
)
OPTIONAL_SETTINGS = (
    "WEBHOOK_ALLOWED_ADDRESSES",
    "WEBHOOK_RETRY_BASE_SECONDS",
    "WEBHOOK_RETRY_HOURS",
    "WEBHOOK_TIMEOUT_SECONDS",
)
require_settings(REQUIRED_SETTINGS, OPTIONAL_SETTINGS)


def record_handler(record: SQSRecord) -> None:
    message = read_message(WEBHOOK_MESSAGES, record.body, queue="webhooks", message_id=record.message_id)
    if isinstance(message, TaskEvent):  # a task event, from the bus's rule
        fan_out(message, webhook_deliveries(), now=time.time())
        return
    if message is None:
        return  # of no known kind: logged by read_message, and acknowledged (no redelivery would change it)
    deliver(message, webhook_deliveries(), now=time.time())


handler = sqs_lambda_handler(record_handler)
