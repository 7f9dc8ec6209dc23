"""SQS event source mappings: the event Lambda hands an SQS-triggered function, and the pollers
that feed each function from its queue as the mapping does."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

from reviewpulse_cli.local_state import LOCAL_ACCOUNT

from reviewpulse_tools.local.lambda_ import FunctionRunner, StackStopping
from reviewpulse_tools.local.provision import QueueTrigger

_log = logging.getLogger("reviewpulse.local")


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str = "us-east-1") -> dict[str, Any]:
    """The event Lambda's SQS poller hands a function, from ReceiveMessage results."""
    records = []
    for message in messages:
        attributes = message.get("Attributes", {})
        records.append(
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": {
                    "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
                    "SentTimestamp": attributes.get("SentTimestamp", str(int(time.time() * 1000))),
                    "SenderId": attributes.get("SenderId", LOCAL_ACCOUNT),
                    "ApproximateFirstReceiveTimestamp": attributes.get(
                        "ApproximateFirstReceiveTimestamp", str(int(time.time() * 1000))
                    ),
                },
                "messageAttributes": {
                    name: {
                        "stringValue": value.get("StringValue"),
                        "binaryValue": value.get("BinaryValue"),
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": value.get("DataType", "String"),
                    }
                    for name, value in message.get("MessageAttributes", {}).items()
                },
                "md5OfBody": message.get(
                    "MD5OfBody", hashlib.md5(message["Body"].encode(), usedforsecurity=False).hexdigest()
                ),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
        )
    return {"Records": records}


class QueuePoller:
    """Feeds SQS-triggered functions from their queues as the event source mapping does: batches
    of the template's size, only reported failures left for redelivery (after the visibility
    timeout, shortened here by `retry_delay`), redrive to the DLQ by the queue's own policy."""

    def __init__(
        self, runner: FunctionRunner, sqs: Any, *, retry_delay: int | None = 0, also: Sequence[Any] = ()
    ) -> None:
        self.runner = runner
        self.sqs = sqs
        self.retry_delay = retry_delay
        # Other event sources drained with the queues (each with poll_all() -> records handled),
        # such as the DynamoDB stream pollers: a task's end feeds the webhook queue through them.
        self.also = list(also)
        self.triggers = runner.stack.queue_triggers()
        self.failures = 0
        self.crashes: list[Exception] = []
        self._count_lock = threading.Lock()
        self._stopping = threading.Event()  # the stack's stop event, once run() is given it
        events = getattr(getattr(sqs, "meta", None), "events", None)
        if events is not None:
            events.register("needs-retry.sqs.ReceiveMessage", self._receive_failed)

    def _receive_failed(
        self, attempts: int, caught_exception: Exception | None = None, response: Any = None, **_: Any
    ) -> None:
        """Say when a ReceiveMessage attempt failed (botocore tries it again on its own): moto may
        have taken messages for it already, which then come back only after their queue's visibility
        timeout (minutes to 90 for the workers' queues), as SQS's would. A load run that finds a task
        stuck long after the others has its cause here in the stack's log."""
        if self._stopping.is_set():  # moto's process went first while the stack stops: not a fault
            return
        status = getattr(response[0], "status_code", 0) if response else 0
        if caught_exception is not None or status >= 500:
            _log.warning(
                "ReceiveMessage attempt %d failed (%s): messages it took return after the visibility timeout",
                attempts,
                type(caught_exception).__name__ if caught_exception is not None else status,
            )

    def receive(self, trigger: QueueTrigger, wait_seconds: int = 0) -> list[dict[str, Any]]:
        """Up to one batch of the trigger's queue, with every attribute the event needs."""
        return self.sqs.receive_message(
            QueueUrl=self.runner.stack.ref(trigger.queue),
            MaxNumberOfMessages=min(trigger.batch_size, 10),
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=wait_seconds,
        ).get("Messages", [])

    def poll_once(self, trigger: QueueTrigger, wait_seconds: int = 0) -> int:
        url = self.runner.stack.ref(trigger.queue)
        messages = self.receive(trigger, wait_seconds)
        if not messages:
            return 0
        event = sqs_event(messages, self.runner.stack.attribute(trigger.queue, "Arn"), self.runner.stack.region)
        try:
            result = self.runner.invoke(trigger.function, event) or {}
            failed_ids = {f.get("itemIdentifier") for f in result.get("batchItemFailures", [])}
            known = {m["MessageId"] for m in messages}
            if not trigger.report_failures and failed_ids:
                failed_ids = set()  # without ReportBatchItemFailures Lambda ignores the response
            elif failed_ids - known:
                failed_ids = known  # an unknown or empty identifier fails the whole batch
        except StackStopping:
            _log.debug("%s: a batch of %d left in its queue: the stack is stopping", trigger.function, len(messages))
            return 0
        except Exception as exc:
            # A crashed invocation leaves the whole batch for redelivery, as in Lambda.
            _log.warning("%s failed on a batch of %d: %s", trigger.function, len(messages), type(exc).__name__)
            with self._count_lock:
                self.crashes.append(exc)
            failed_ids = {m["MessageId"] for m in messages}
        done = [m for m in messages if m["MessageId"] not in failed_ids]
        for start in range(0, len(done), 10):
            self.sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done[start : start + 10])
                ],
            )
        for message in messages:
            if message["MessageId"] in failed_ids:
                with self._count_lock:
                    self.failures += 1
                if self.retry_delay is not None:  # None: wait out the queue's own visibility timeout
                    self.sqs.change_message_visibility(
                        QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=self.retry_delay
                    )
        return len(messages)

    def run(self, trigger: QueueTrigger, stop: threading.Event, wait_seconds: int = 1) -> None:
        """Long-poll one queue until `stop` is set, as an event source mapping does."""
        self._stopping = stop
        while not stop.is_set():
            try:
                self.poll_once(trigger, wait_seconds=wait_seconds)
            except Exception as exc:  # the endpoint went away or hiccuped: keep polling
                if stop.is_set():  # the stack is stopping and moto's process went first: not a fault
                    return
                _log.warning("polling %s failed: %s", trigger.queue, exc)
                with self._count_lock:
                    self.crashes.append(exc)
                stop.wait(1)

    def drain(self, max_rounds: int = 200) -> int:
        """Poll every trigger until all their queues are empty. Returns messages handled."""
        handled = 0
        empty_rounds = 0
        for _ in range(max_rounds):
            round_handled = sum(self.poll_once(trigger) for trigger in self.triggers)
            round_handled += sum(source.poll_all() for source in self.also)
            if round_handled == 0:
                # A receive that found nothing may have just redriven a message to a dead-letter
                # queue polled earlier in the round: only a second empty round means drained.
                empty_rounds += 1
                if empty_rounds == 2:
                    return handled
                continue
            empty_rounds = 0
            handled += round_handled
        raise RuntimeError(f"queues did not drain; last crash: {self.crashes[-1:]!r}")


__all__ = ["QueuePoller", "sqs_event"]
