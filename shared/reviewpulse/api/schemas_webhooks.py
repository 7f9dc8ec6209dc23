"""Bodies of the webhooks resource (a module of their own: schemas.py holds the task resources')."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from reviewpulse.usecases.webhooks import DEFAULT_OVERLAP_SECONDS, MAX_OVERLAP_SECONDS
from reviewpulse.webhooks.addresses import MAX_URL_LENGTH
from reviewpulse.webhooks.store import Webhook


class CreateWebhookRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        min_length=1,
        max_length=MAX_URL_LENGTH,
        description="An https URL on a public address; every task event of yours is POSTed there, signed",
        examples=["https://hooks.example.com/reviewpulse"],
    )


class WebhookView(BaseModel):
    webhook_id: str
    url: str
    created_at: str

    @classmethod
    def of(cls, webhook: Webhook) -> WebhookView:
        return cls(webhook_id=webhook.webhook_id, url=webhook.url, created_at=webhook.created_at)


class WebhookCreated(WebhookView):
    secret: str = Field(
        description=(
            "The signing secret (HMAC-SHA256 over `<t>.<body>`, header ReviewPulse-Signature: t=…,v1=…). "
            "Shown only here: keep it"
        )
    )


class WebhookList(BaseModel):
    items: list[WebhookView]


class RotateSecretRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    overlap_seconds: int = Field(
        default=DEFAULT_OVERLAP_SECONDS,
        ge=0,
        le=MAX_OVERLAP_SECONDS,
        description=(
            "How long the replaced secret still signs deliveries beside the new one "
            "(ReviewPulse-Signature: t=…,v1=<new>,v1=<old>); 0 ends it at once"
        ),
    )


class SecretRotated(WebhookView):
    secret: str = Field(description="The new signing secret. Shown only here: keep it")
    previous_secret_valid_until: str = Field(
        description="When deliveries stop carrying a signature with the replaced secret (ISO 8601, UTC)"
    )
