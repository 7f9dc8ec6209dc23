from datetime import UTC, datetime

from fastapi import APIRouter, Body, Depends

from reviewpulse import wiring
from reviewpulse.api.auth import scoped
from reviewpulse.api.problems import problem_responses
from reviewpulse.api.schemas_webhooks import RotateSecretRequest, SecretRotated, WebhookView
from reviewpulse.errors import NotFound
from reviewpulse.tenants.scopes import Scope
from reviewpulse.usecases.webhooks import (
    DEFAULT_OVERLAP_SECONDS,
    RotateWebhookSecret,
    WebhookAdmin,
    rotate_webhook_secret,
)
from reviewpulse.webhooks.store import WEBHOOK_ID_PREFIX

router = APIRouter(tags=["webhooks"])


@router.post(
    "/v1/webhooks/{webhook_id}/rotate-secret",
    operation_id="rotateWebhookSecret",
    response_model=SecretRotated,
    summary="A new signing secret, shown once; the old one still signs deliveries during the overlap",
    responses=problem_responses(400, 404, 413),
)
def rotate_secret(
    webhook_id: str,
    body: RotateSecretRequest | None = Body(default=None),
    tenant: str = scoped(Scope.ADMIN),
    admin: WebhookAdmin = Depends(wiring.webhook_admin),
) -> SecretRotated:
    # Another tenant's webhook is looked up under the caller's tenant: it answers like a missing one.
    if not webhook_id.startswith(WEBHOOK_ID_PREFIX) or len(webhook_id) > 64:
        raise NotFound("no such webhook")
    overlap = body.overlap_seconds if body is not None else DEFAULT_OVERLAP_SECONDS
    webhook, secret, until = rotate_webhook_secret(RotateWebhookSecret(tenant, webhook_id, overlap), admin)
    return SecretRotated(
        **WebhookView.of(webhook).model_dump(),
        secret=secret,
        previous_secret_valid_until=datetime.fromtimestamp(until, UTC).isoformat(),
    )
