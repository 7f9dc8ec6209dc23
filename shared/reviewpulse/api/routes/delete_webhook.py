from fastapi import APIRouter, Depends, Response

from reviewpulse import wiring
from reviewpulse.api.auth import scoped
from reviewpulse.api.problems import problem_responses
from reviewpulse.errors import NotFound
from reviewpulse.tenants.scopes import Scope
from reviewpulse.usecases.webhooks import remove_webhook
from reviewpulse.webhooks.store import WEBHOOK_ID_PREFIX, WebhookRepository

router = APIRouter(tags=["webhooks"])


@router.delete(
    "/v1/webhooks/{webhook_id}",
    operation_id="deleteWebhook",
    status_code=204,
    response_class=Response,
    summary="Remove a webhook; its deliveries still queued are dropped",
    responses=problem_responses(404),
)
def delete_webhook(
    webhook_id: str,
    tenant: str = scoped(Scope.ADMIN),
    webhooks: WebhookRepository = Depends(wiring.webhook_repository),
) -> Response:
    # Another tenant's webhook is looked up under the caller's tenant: it answers like a missing one.
    if not webhook_id.startswith(WEBHOOK_ID_PREFIX) or len(webhook_id) > 64:
        raise NotFound("no such webhook")
    remove_webhook(tenant, webhook_id, webhooks=webhooks)
    return Response(status_code=204)
