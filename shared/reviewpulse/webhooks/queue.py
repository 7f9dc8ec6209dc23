"""The webhook delivery queue: one message per (event, webhook) attempt, and the dead-letter queue
deliveries are parked on when their retries run out.

SQS delays a message by at most 900 s, so a longer wait is made of hops: the message carries
when it may next be attempted (`not_before`), and a hop that comes too early is sent again with
the rest of the wait (at most 900 s each time).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

MAX_DELAY_SECONDS = 900


class DeliveryJob(BaseModel):
    """One event for one webhook, and how far its delivery has come."""

    tenant: str
    webhook_id: str
    event_id: str
    detail_type: str
    detail: dict[str, Any]
    attempt: int = 1  # the attempt this message is for
    first_attempt_at: float  # unix seconds: retries stop 24 hours after it
    not_before: float = 0.0  # unix seconds: not attempted before then
    last_error: str | None = None


class DeliveryQueue:
    def __init__(self, queue_url: str, dead_letter_url: str, sqs: Any) -> None:
        self._url = queue_url
        self._dead_letter_url = dead_letter_url
        self._sqs = sqs

    def send(self, jobs: list[DeliveryJob], *, now: float) -> None:
        for start in range(0, len(jobs), 10):  # SendMessageBatch takes 10 entries
            batch = jobs[start : start + 10]
            entries = [
                {
                    "Id": str(n),
                    "MessageBody": job.model_dump_json(),
                    "DelaySeconds": _delay(job, now),
                }
                for n, job in enumerate(batch)
            ]
            response = self._sqs.send_message_batch(QueueUrl=self._url, Entries=entries)
            if response.get("Failed"):
                raise RuntimeError(f"SQS refused {len(response['Failed'])} webhook deliveries")

    def park(self, job: DeliveryJob) -> None:
        self._sqs.send_message(QueueUrl=self._dead_letter_url, MessageBody=json.dumps(job.model_dump()))


def _delay(job: DeliveryJob, now: float) -> int:
    return max(0, min(MAX_DELAY_SECONDS, int(round(job.not_before - now))))
