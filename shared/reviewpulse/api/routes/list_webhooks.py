from fastapi import APIRouter, Depends

from reviewpulse import wiring
from reviewpulse.api.auth import scoped
from reviewpulse.api.problems import problem_responses
from reviewpulse.api.schemas_webhooks import WebhookList, WebhookView
from reviewpulse.tenants.scopes import Scope
from reviewpulse.webhooks.store import WebhookRepository

router = APIRouter(tags=["webhooks"])


@router.get(
    "/v1/webhooks",
    operation_id="listWebhooks",
    response_model=WebhookList,
    summary="Your webhooks (never their secrets)",
    responses=problem_responses(),
)
def list_webhooks(
    tenant: str = scoped(Scope.ADMIN),
    webhooks: WebhookRepository = Depends(wiring.webhook_repository),
) -> WebhookList:
    return WebhookList(items=[WebhookView.of(webhook) for webhook in webhooks.for_tenant(tenant)])
