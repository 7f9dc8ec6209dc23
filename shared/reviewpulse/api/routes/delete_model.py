from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Response

from reviewpulse import wiring
from reviewpulse.api.auth import scoped
from reviewpulse.api.problems import problem_responses
from reviewpulse.tenant_models.repository import ModelRepository
from reviewpulse.tenants.scopes import Scope
from reviewpulse.usecases.models import delete_model as remove_model

router = APIRouter(tags=["models"])


def artifact_store_factory() -> Callable[[], Any]:
    """The factory of the artifact store, not the store: it is built only when a model is found."""
    return wiring.model_artifacts


@router.delete(
    "/v1/models/{model_id}",
    operation_id="deleteModel",
    status_code=204,
    response_class=Response,
    summary="Delete a model and its artifact; tasks that used it stay readable, new tasks may no longer name it",
    responses=problem_responses(404),
)
def delete_model(
    model_id: str,
    # Reading models is reading; this changes what every later task of the tenant answers: admin.
    tenant: str = scoped(Scope.ADMIN),
    models: ModelRepository = Depends(wiring.model_repository),
    artifacts: Callable[[], Any] = Depends(artifact_store_factory),
) -> Response:
    remove_model(tenant, model_id, models=models, delete_artifacts=lambda t, m: artifacts().delete(t, m))
    return Response(status_code=204)
