from fastapi import APIRouter, Depends, Response

from reviewpulse import wiring
from reviewpulse.api.auth import caller_tenant
from reviewpulse.api.problems import problem_responses
from reviewpulse.tenant_models.repository import ModelRepository
from reviewpulse.usecases.models import delete_model as remove_model

router = APIRouter(tags=["models"])


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
    tenant: str = Depends(caller_tenant),
    models: ModelRepository = Depends(wiring.model_repository),
    artifacts=Depends(wiring.model_artifacts),
) -> Response:
    remove_model(tenant, model_id, models=models, delete_artifacts=artifacts.delete_all)
    return Response(status_code=204)
