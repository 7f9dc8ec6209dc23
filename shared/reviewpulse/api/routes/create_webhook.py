from fastapi import APIRouter, Depends

from reviewpulse import wiring
from reviewpulse.api.auth import scoped
from reviewpulse.api.problems import problem_responses
from reviewpulse.api.schemas_webhooks import CreateWebhookRequest, WebhookCreated, WebhookView
from reviewpulse.tenants.scopes import Scope
from reviewpulse.usecases.webhooks import RegisterWebhook, WebhookAdmin, register_webhook

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
    admin: WebhookAdmin = Depends(wiring.webhook_admin),
) -> WebhookCreated:
    webhook, secret = register_webhook(RegisterWebhook(tenant, body.url), admin)
    return WebhookCreated(**WebhookView.of(webhook).model_dump(), secret=secret)
