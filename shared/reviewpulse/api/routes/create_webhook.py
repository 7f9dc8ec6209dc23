from fastapi import APIRouter, Depends

from reviewpulse import wiring
from reviewpulse.api import dependencies as deps
from reviewpulse.api.auth import scoped
from reviewpulse.api.problems import problem_responses
from reviewpulse.api.schemas_webhooks import CreateWebhookRequest, WebhookCreated, WebhookView
from reviewpulse.settings import Settings
from reviewpulse.tenants.scopes import Scope
from reviewpulse.usecases.webhooks import register_webhook
from reviewpulse.webhooks.addresses import parse_allowed
from reviewpulse.webhooks.store import SecretBox, WebhookRepository

router = APIRouter(tags=["webhooks"])


@router.post(
    "/v1/webhooks",
    operation_id="createWebhook",
    status_code=201,
    response_model=WebhookCreated,
    summary="Register a webhook: your task events POSTed and signed to an https URL",
    responses=problem_responses(400, 409, 413),
)
def create_webhook(
    body: CreateWebhookRequest,
    tenant: str = scoped(Scope.ADMIN),
    webhooks: WebhookRepository = Depends(wiring.webhook_repository),
    secrets: SecretBox = Depends(wiring.webhook_secrets),
    settings: Settings = Depends(deps.settings),
) -> WebhookCreated:
    webhook, secret = register_webhook(
        tenant,
        body.url,
        webhooks=webhooks,
        secrets=secrets,
        allowed=parse_allowed(settings.webhook_allowed_addresses),
    )
    return WebhookCreated(**WebhookView.of(webhook).model_dump(), secret=secret)
