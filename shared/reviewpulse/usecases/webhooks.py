"""Registering, listing, removing and rotating the secret of a tenant's webhooks (POST, GET, DELETE
/v1/webhooks, POST /v1/webhooks/{webhook_id}/rotate-secret)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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


@dataclass(frozen=True)
class WebhookAdmin:
    """The webhook routes' collaborators (wiring.webhook_admin builds them): the webhooks, the
    box that seals their secrets, and the addresses a webhook may point at besides public ones."""

    webhooks: WebhookRepository
    secrets: SecretBox
    allowed: Sequence[Network] = ()


@dataclass(frozen=True)
class RegisterWebhook:
    """Command: a webhook of `tenant`'s at `url`."""

    tenant: str
    url: str


@dataclass(frozen=True)
class RotateWebhookSecret:
    """Command: a new signing secret for `tenant`'s `webhook_id`, the old one kept `overlap_seconds`."""

    tenant: str
    webhook_id: str
    overlap_seconds: int


def register_webhook(command: RegisterWebhook, deps: WebhookAdmin) -> tuple[Webhook, str]:
    """A new webhook and its signing secret, which is returned here once and stored only encrypted."""
    tenant, url, webhooks, secrets, allowed = command.tenant, command.url, deps.webhooks, deps.secrets, deps.allowed
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


def rotate_webhook_secret(command: RotateWebhookSecret, deps: WebhookAdmin) -> tuple[Webhook, str, int]:
    """A new signing secret for the webhook, returned here once; the replaced one still signs
    deliveries (beside the new) for `overlap_seconds` (0: not at all). Returns the webhook, the new
    secret and the epoch second at which the old one stops being used."""
    tenant, webhook_id, overlap_seconds = command.tenant, command.webhook_id, command.overlap_seconds
    webhooks, secrets = deps.webhooks, deps.secrets
    previous_until = int(now().timestamp()) + overlap_seconds
    secret = new_secret()
    webhook = webhooks.rotate(tenant, webhook_id, secrets.seal(tenant, webhook_id, secret), previous_until)
    if webhook is None:
        raise NotFound("no such webhook")
    logger.info(
        "webhook secret rotated", extra={"tenant": tenant, "webhook_id": webhook_id, "overlap_seconds": overlap_seconds}
    )
    return webhook, secret, previous_until
