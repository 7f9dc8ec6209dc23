from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from reviewpulse import wiring
from reviewpulse.api.auth import scoped
from reviewpulse.api.problems import problem_responses
from reviewpulse.tenants.scopes import Scope
from reviewpulse.usecases.erase_tenant import TenantData, erase_tenant

router = APIRouter(tags=["tenant"])


class ErasureReceiptView(BaseModel):
    tenant: str
    tasks_cancelled: int = Field(description="tasks still running when the erasure began, cancelled first")
    tasks: int = Field(description="task records removed")
    objects: dict[str, int] = Field(
        description="objects removed per bucket area: uploads, incoming, results (with insights and reports), "
        "outgoing, models"
    )
    webhooks: int
    budget_records: int = Field(description="the monthly budget and each month's spend")
    cache_entries: int = Field(description="cached LLM answers for the tenant's texts")
    provider_batch_records: int = Field(description="Batch API mode's records of the tenant's tasks")
    model_records: int = Field(description="the tenant's models (their files are counted under objects.models)")
    kept: list[str] = Field(description="what erasure does not remove")


@router.delete(
    "/v1/tenant/data",
    operation_id="eraseTenantData",
    response_model=ErasureReceiptView,
    summary="Erase every task, file, result, model, webhook and budget of the caller's tenant, with a receipt",
    responses=problem_responses(validated=False),
)
def erase_tenant_data(
    tenant: str = scoped(Scope.ADMIN),
    data: TenantData = Depends(wiring.tenant_data),
) -> ErasureReceiptView:
    receipt = erase_tenant(tenant, data)
    return ErasureReceiptView(**{**receipt.__dict__, "kept": list(receipt.kept)})
