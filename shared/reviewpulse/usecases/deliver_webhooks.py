"""Webhook deliveries: every task event on the bus becomes one delivery per webhook of its tenant,
POSTed signed, retried with exponential backoff and jitter for 24 hours, then parked on a
dead-letter queue (which has an alarm).

At least once: a delivery is repeated when the receiver's answer is lost or an SQS message comes
twice, so the payload carries the event's id (also in the ReviewPulse-Event-Id header) for the
receiver to drop repeats. Each attempt is signed afresh (its own timestamp) over the same body,
with every secret of the webhook valid at the time of that attempt (two during a rotation's
overlap), so a delivery queued before a rotation verifies with whichever secret the receiver has.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import ValidationError

from reviewpulse.errors import ValidationFailed
from reviewpulse.messages.webhooks import TaskEvent
from reviewpulse.observability import MetricUnit, logger, metrics
from reviewpulse.tenants.keys import is_valid_tenant
from reviewpulse.webhooks import sender
from reviewpulse.webhooks.addresses import AddressRefused, Network, Resolver, check_url, resolve_public, system_resolver
from reviewpulse.webhooks.queue import DeliveryJob, DeliveryQueue
from reviewpulse.webhooks.signing import EVENT_ID_HEADER, SIGNATURE_HEADER, signatures
from reviewpulse.webhooks.store import SecretBox, WebhookRepository

Post = Callable[..., sender.Sent]


@dataclass(frozen=True)
class RetryPolicy:
    """Waits of base, 2 x base, 4 x base ... (at most `max_wait_seconds`), each with equal jitter
    (half fixed, half random), until `horizon_seconds` after the first attempt."""

    base_seconds: float = 30.0
    max_wait_seconds: float = 4 * 3600.0
    horizon_seconds: float = 24 * 3600.0
    timeout_seconds: float = 10.0

    def wait_after(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        wait = min(self.max_wait_seconds, self.base_seconds * 2 ** (attempt - 1))
        return wait / 2 + rng() * wait / 2


@dataclass(frozen=True)
class Deliveries:
    """The webhook function's collaborators (built per process by wiring.webhook_deliveries; a test
    swaps one with dataclasses.replace): the webhooks and their sealed secrets, the delivery
    queue, the retry policy, the addresses a local stack may allow, and how a POST is sent."""

    webhooks: WebhookRepository
    secrets: SecretBox
    queue: DeliveryQueue
    policy: RetryPolicy = RetryPolicy()
    allowed: Sequence[Network] = ()
    resolve: Resolver = system_resolver
    post: Post = sender.post
    rng: Callable[[], float] = random.random


def payload(job: DeliveryJob) -> bytes:
    """What the receiver gets: the event as EventBridge carries it, with the event's own id."""
    event = {
        "id": job.event_id,
        "source": "reviewpulse",
        "detail-type": job.detail_type,
        "time": job.detail.get("ended_at"),
        "detail": job.detail,
    }
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()


def fan_out(event: TaskEvent, deliveries: Deliveries, *, now: float) -> int:
    """One delivery per webhook of the event's tenant. Returns how many."""
    webhooks, queue = deliveries.webhooks, deliveries.queue
    detail = event.detail
    tenant = detail.get("tenant")
    if not isinstance(tenant, str) or not is_valid_tenant(tenant):
        logger.error("event without a valid tenant dropped")
        return 0
    try:
        jobs = [
            DeliveryJob(
                tenant=tenant,
                webhook_id=webhook.webhook_id,
                event_id=detail.get("event_id"),
                detail_type=event.detail_type,
                detail=detail,
                first_attempt_at=now,
                not_before=now,
            )
            for webhook in webhooks.for_tenant(tenant)
        ]
    except ValidationError:
        # Its fields' values are not repeated: an event of this shape was not ours to send.
        logger.error("event that is not a task event dropped", extra={"tenant": tenant})
        return 0
    if jobs:
        queue.send(jobs, now=now)
    return len(jobs)


def deliver(job: DeliveryJob, deliveries: Deliveries, *, now: float) -> str:
    """One attempt of `job` (the command; or one hop of a long wait) at `now`. Returns what
    happened: delivered, retrying, parked, waiting or webhook-gone."""
    webhooks, secrets, queue, policy = deliveries.webhooks, deliveries.secrets, deliveries.queue, deliveries.policy
    log = {"tenant": job.tenant, "webhook_id": job.webhook_id, "event_id": job.event_id, "attempt": job.attempt}
    if job.not_before > now:
        queue.send([job], now=now)  # SQS waits 900 s at most: the next hop of a longer wait
        return "waiting"
    found = webhooks.get_with_secrets(job.tenant, job.webhook_id, at=now)
    if found is None:
        logger.info("webhook removed; delivery dropped", extra=log)
        return "webhook-gone"
    webhook, sealed_secrets = found
    body = payload(job)
    try:
        target = check_url(webhook.url, deliveries.allowed)
        address = resolve_public(target, deliveries.allowed, deliveries.resolve)
    except (AddressRefused, ValidationFailed) as exc:
        sent = sender.Sent(None, f"refused: {exc}")
    else:
        headers = {
            SIGNATURE_HEADER: signatures(
                [secrets.open(job.tenant, job.webhook_id, sealed) for sealed in sealed_secrets], int(now), body
            ),
            EVENT_ID_HEADER: job.event_id,
        }
        sent = deliveries.post(target, address, body, headers, policy.timeout_seconds)
    if sent.status is not None and 200 <= sent.status < 300:
        logger.info("webhook delivered", extra={**log, "status": sent.status})
        metrics.add_metric(name="WebhooksDelivered", unit=MetricUnit.Count, value=1)
        return "delivered"
    next_at = now + policy.wait_after(job.attempt, deliveries.rng)
    failed = job.model_copy(update={"last_error": sent.reason})
    if next_at - job.first_attempt_at > policy.horizon_seconds:
        queue.park(failed)
        logger.error("webhook delivery parked after its retries", extra={**log, "reason": sent.reason})
        metrics.add_metric(name="WebhooksParked", unit=MetricUnit.Count, value=1)
        return "parked"
    queue.send([failed.model_copy(update={"attempt": job.attempt + 1, "not_before": next_at})], now=now)
    logger.warning(
        "webhook delivery failed; retrying",
        extra={**log, "reason": sent.reason, "retry_at": datetime.fromtimestamp(next_at, UTC).isoformat()},
    )
    return "retrying"
