from fastapi import APIRouter, Depends

from reviewpulse import wiring
from reviewpulse.api.auth import scoped
from reviewpulse.api.problems import problem_responses
from reviewpulse.api.schemas_models import ModelView
from reviewpulse.tenant_models.repository import ModelRepository
from reviewpulse.tenants.scopes import Scope
from reviewpulse.usecases.models import get_model as find_model

router = APIRouter(tags=["models"])


@router.get(
    "/v1/models/{model_id}",
    operation_id="getModel",
    response_model=ModelView,
    summary="One model: its status, its model card once ready, or its error",
    responses=problem_responses(404),
)
def get_model(
    model_id: str,
    tenant: str = scoped(Scope.READ),
    models: ModelRepository = Depends(wiring.model_repository),
) -> ModelView:
    model = find_model(tenant, model_id, models=models)
    return ModelView.of(model, default_model_id=models.default_model_id(tenant))
