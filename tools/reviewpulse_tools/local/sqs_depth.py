"""moto's SQS, without its cost growing with every message a queue holds, for the local stack's
AWS process (aws_process.py) and the tests' in-process moto (tests/conftest.py).

moto 5.2 counts a queue's messages for every message it sends and receives: SendMessage reads
`queue.attributes` (for one FIFO setting), which computes ApproximateNumberOfMessages,
...NotVisible and ...Delayed, three walks over every message held, each message's `visible` and
`delayed` reading the clock through a datetime; a receive checks each message it returns
against the retention period through GetQueueAttributes, which builds `queue.attributes` three
times. Measured with moto's in-process mock (2026-12-06, docs/local-stack.md): a SendMessageBatch
of 10 took 25 ms of CPU on an empty queue, 239 ms with 1,000 messages waiting and 670 ms with
3,000; a ReceiveMessage of one 1.3, 74 and 247 ms. So a load's backlog slowed the very calls
that drain it (and every other queue's, sharing the process's interpreter).

Here the counts read the clock once and compare numbers (the same rules: visible once past
`visible_at`, delayed until `delayed_until`), and the retention check reads the queue's own
period. The answers do not change (tests/unit/test_local_sqs_depth.py holds them to moto's);
a walk over the messages remains, now a plain comparison each.
"""

from __future__ import annotations

from typing import Any

_installed: list[Any] = []


def install() -> None:
    """Patch moto's SQS Queue and backend (idempotent)."""
    from moto.core.utils import unix_time_millis
    from moto.sqs.models import Queue, SQSBackend

    if _installed:
        return

    def messages(self: Any) -> list[Any]:
        now = unix_time_millis()
        return [m for m in self._messages if now > m.visible_at and not now < m.delayed_until]

    def not_visible(self: Any) -> int:
        now = unix_time_millis()
        return sum(1 for m in self._messages if not now > m.visible_at)

    def delayed(self: Any) -> int:
        now = unix_time_millis()
        return sum(1 for m in self._messages if now < m.delayed_until)

    def waiting(self: Any) -> int:
        return len(self.messages)

    def retained(self: Any, queue_name: str, message: Any) -> bool:
        # What GetQueueAttributes(MessageRetentionPeriod) answers, without counting the messages.
        return self.get_queue(queue_name).message_retention_period + message.sent_timestamp / 1000 > (
            unix_time_millis() / 1000
        )

    names = (
        "messages",
        "approximate_number_of_messages_not_visible",
        "approximate_number_of_messages_delayed",
        "approximate_number_of_messages",
    )
    _installed.append(
        ({name: Queue.__dict__[name] for name in names}, SQSBackend.is_message_valid_based_on_retention_period)
    )
    for name, getter in zip(names, (messages, not_visible, delayed, waiting), strict=True):
        setattr(Queue, name, property(getter))
    SQSBackend.is_message_valid_based_on_retention_period = retained  # type: ignore[method-assign]


def uninstall() -> None:
    """Back to moto's own (the tests compare the two)."""
    from moto.sqs.models import Queue, SQSBackend

    if _installed:
        properties, retention = _installed.pop()
        for name, prop in properties.items():
            setattr(Queue, name, prop)
        SQSBackend.is_message_valid_based_on_retention_period = retention  # type: ignore[method-assign]


__all__ = ["install", "uninstall"]
