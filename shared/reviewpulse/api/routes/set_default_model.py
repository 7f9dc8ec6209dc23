from fastapi import APIRouter, Depends

from reviewpulse import wiring
from reviewpulse.api.auth import scoped
from reviewpulse.api.problems import problem_responses
from reviewpulse.api.schemas_models import DefaultModelView, SetDefaultModelRequest
from reviewpulse.tenant_models.repository import ModelRepository
from reviewpulse.tenants.scopes import Scope
from reviewpulse.usecases.models import set_default_model as choose_default

router = APIRouter(tags=["models"])


@router.put(
    "/v1/models/default",
    operation_id="setDefaultModel",
    response_model=DefaultModelView,
    summary="Your default model: used by your new tasks that name none (null: no default)",
    responses=problem_responses(400, 404, 409, 413),
)
def set_default_model(
    body: SetDefaultModelRequest,
    # Reading models is reading; this changes what every later task of the tenant answers: admin.
    tenant: str = scoped(Scope.ADMIN),
    models: ModelRepository = Depends(wiring.model_repository),
) -> DefaultModelView:
    return DefaultModelView(model_id=choose_default(tenant, body.model_id, models=models))
