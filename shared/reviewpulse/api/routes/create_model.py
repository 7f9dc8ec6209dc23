from fastapi import APIRouter, Depends, Request

from reviewpulse import wiring
from reviewpulse.api.auth import request_id, scoped
from reviewpulse.api.problems import problem_responses
from reviewpulse.api.schemas_models import CreateModelRequest, ModelView
from reviewpulse.tenants.scopes import Scope
from reviewpulse.usecases.models import RequestTraining, TrainingRequests, request_training

router = APIRouter(tags=["models"])


@router.post(
    "/v1/models",
    operation_id="createModel",
    status_code=202,
    response_model=ModelView,
    summary="Train a model of your own from a ready batch's labelled rows (status training, then ready or failed)",
    responses=problem_responses(400, 404, 409, 413),
)
def create_model(
    body: CreateModelRequest,
    request: Request,
    # Reading models is reading; this changes what every later task of the tenant answers: admin.
    tenant: str = scoped(Scope.ADMIN),
    training: TrainingRequests = Depends(wiring.training_requests),
) -> ModelView:
    command = RequestTraining(
        tenant, body.task_id, body.label_field, name=body.name, correlation_id=request_id(request)
    )
    return ModelView.of(request_training(command, training))
