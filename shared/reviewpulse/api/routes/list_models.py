from fastapi import APIRouter, Depends

from reviewpulse import wiring
from reviewpulse.api.auth import scoped
from reviewpulse.api.problems import problem_responses
from reviewpulse.api.schemas_models import ModelList, ModelView
from reviewpulse.tenant_models.repository import ModelRepository
from reviewpulse.tenants.scopes import Scope

router = APIRouter(tags=["models"])


@router.get(
    "/v1/models",
    operation_id="listModels",
    response_model=ModelList,
    summary="Your models, oldest first, and which is your default",
    responses=problem_responses(),
)
def list_models(
    tenant: str = scoped(Scope.READ),
    models: ModelRepository = Depends(wiring.model_repository),
) -> ModelList:
    owned, default = models.for_tenant(tenant)
    return ModelList(items=[ModelView.of(m, default_model_id=default) for m in owned], default_model_id=default)
