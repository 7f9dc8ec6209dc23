"""The webhook delivery queue: one message per (event, webhook) attempt, and the dead-letter queue
deliveries are parked on when their retries run out.

SQS delays a message by at most 900 s, so a longer wait is made of hops: the message carries
when it may next be attempted (`not_before`), and a hop that comes too early is sent again with
the rest of the wait (at most 900 s each time).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BaseModel, StringConstraints

from reviewpulse.tenants.keys import TENANT_PATTERN

MAX_DELAY_SECONDS = 900
# A message names its tenant, webhook and event by these, and the worker logs them: one of any
# other shape is malformed (and could carry anything), so it fails validation before it is logged.
TenantName = Annotated[str, StringConstraints(pattern=TENANT_PATTERN.pattern)]
WebhookId = Annotated[str, StringConstraints(pattern=r"^wh_[0-9a-f]{16}$")]
EventId = Annotated[str, StringConstraints(pattern=r"^evt_[0-9a-f]{32}$")]
DetailType = Annotated[str, StringConstraints(pattern=r"^Task (Ready|Failed|Cancelled)$")]


class DeliveryJob(BaseModel):
    """One event for one webhook, and how far its delivery has come."""

    tenant: TenantName
    webhook_id: WebhookId
    event_id: EventId
    detail_type: DetailType
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
