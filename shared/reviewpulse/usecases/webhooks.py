"""Registering, listing, removing and rotating the secret of a tenant's webhooks (POST, GET, DELETE
/v1/webhooks, POST /v1/webhooks/{webhook_id}/rotate-secret)."""

from __future__ import annotations

from collections.abc import Sequence

from reviewpulse.clock import now
from reviewpulse.errors import NotFound, ReviewPulseError
from reviewpulse.observability import logger
from reviewpulse.webhooks.addresses import Network, check_url
from reviewpulse.webhooks.signing import new_secret
from reviewpulse.webhooks.store import SecretBox, Webhook, WebhookRepository, new_webhook_id

# How long a rotated-out secret still signs deliveries, unless the rotation says otherwise: a day
# gives a receiver's deploy time to switch; at most a week, so an old secret cannot linger.
DEFAULT_OVERLAP_SECONDS = 24 * 3600
MAX_OVERLAP_SECONDS = 7 * 24 * 3600

# Each event is POSTed to every webhook of its tenant: a few are plenty, and they bound the fan-out.
MAX_WEBHOOKS_PER_TENANT = 10


class TooManyWebhooks(ReviewPulseError):
    code, status, title = "webhook-limit", 409, "Too many webhooks"


def register_webhook(
    tenant: str, url: str, *, webhooks: WebhookRepository, secrets: SecretBox, allowed: Sequence[Network] = ()
) -> tuple[Webhook, str]:
    """A new webhook and its signing secret, which is returned here once and stored only encrypted."""
    check_url(url, allowed)
    if len(webhooks.for_tenant(tenant)) >= MAX_WEBHOOKS_PER_TENANT:
        raise TooManyWebhooks(f"a tenant may have {MAX_WEBHOOKS_PER_TENANT} webhooks; remove one first")
    webhook_id = new_webhook_id()
    secret = new_secret()
    webhook = webhooks.add(tenant, webhook_id, url, secrets.seal(tenant, webhook_id, secret))
    logger.info("webhook registered", extra={"tenant": tenant, "webhook_id": webhook_id})
    return webhook, secret


def remove_webhook(tenant: str, webhook_id: str, *, webhooks: WebhookRepository) -> None:
    """Deliveries already queued for it are dropped when their turn comes."""
    if not webhooks.delete(tenant, webhook_id):
        raise NotFound("no such webhook")
    logger.info("webhook removed", extra={"tenant": tenant, "webhook_id": webhook_id})


def rotate_webhook_secret(
    tenant: str, webhook_id: str, overlap_seconds: int, *, webhooks: WebhookRepository, secrets: SecretBox
) -> tuple[Webhook, str, int]:
    """A new signing secret for the webhook, returned here once; the replaced one still signs
    deliveries (beside the new) for `overlap_seconds` (0: not at all). Returns the webhook, the new
    secret and the epoch second at which the old one stops being used."""
    previous_until = int(now().timestamp()) + overlap_seconds
    secret = new_secret()
    webhook = webhooks.rotate(tenant, webhook_id, secrets.seal(tenant, webhook_id, secret), previous_until)
    if webhook is None:
        raise NotFound("no such webhook")
    logger.info(
        "webhook secret rotated", extra={"tenant": tenant, "webhook_id": webhook_id, "overlap_seconds": overlap_seconds}
    )
    return webhook, secret, previous_until
