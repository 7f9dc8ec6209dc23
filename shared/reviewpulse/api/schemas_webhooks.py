"""Bodies of the webhooks resource (a module of their own: schemas.py holds the task resources')."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

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
