"""Erasing a tenant's data on request (DELETE /v1/tenant/data, `reviewpulse tenants erase`).

In this order: every task still running is cancelled first (its queued chunks are then skipped,
as for any cancelled task), the tenant's webhooks are removed (nothing more is sent to them),
then each task's Batch API records, every object under the tenant's folder in each of the
bucket's tenant areas (uploads, incoming drops, results with insights and reports, outgoing
copies and receipts, models' files), the task records, the model records (and the tenant's default
model), the budget records and the tenant's result cache entries. The answer is a receipt of what was removed, counted.

Kept: the tenant's API keys (the caller needs one to ask; `keys revoke` ends them), and the
idempotency records of its last day's requests (keyed by a hash, holding answers, not texts;
they expire within 24 hours)."""

from __future__ import annotations

from dataclasses import dataclass, field

from reviewpulse.analysis.cache import ResultCache
from reviewpulse.observability import logger
from reviewpulse.provider_batches.repository import ProviderBatchRepository
from reviewpulse.storage.layout import TENANT_AREAS
from reviewpulse.storage.objects import BucketObjects
from reviewpulse.tasks.repository import TaskRepository
from reviewpulse.tenant_models.repository import ModelRepository
from reviewpulse.tenants.budgets import BudgetRepository
from reviewpulse.webhooks.store import WebhookRepository


@dataclass(frozen=True)
class ErasureReceipt:
    tenant: str
    tasks_cancelled: int  # running when the erasure began, cancelled before anything was removed
    tasks: int
    objects: dict[str, int]  # per bucket area: uploads, incoming, results, outgoing, models
    webhooks: int
    budget_records: int
    cache_entries: int
    provider_batch_records: int
    model_records: int  # the tenant's models (their files are counted under objects["models"])
    kept: tuple[str, ...] = field(default=("api keys", "idempotency records (expire within 24 hours)"))


@dataclass(frozen=True)
class TenantData:
    """Where a tenant's data lives: the collaborators erasure needs (built by wiring or the CLI)."""

    tasks: TaskRepository
    objects: BucketObjects
    webhooks: WebhookRepository
    budgets: BudgetRepository
    cache: ResultCache | None  # None where the deployment has no result cache table
    provider_batches: ProviderBatchRepository | None
    models: ModelRepository | None = None  # None where the deployment has no models table


def erase_tenant(tenant: str, data: TenantData) -> ErasureReceipt:
    tasks = data.tasks.all_of_tenant(tenant)
    # In-flight work first: a cancelled task's queued chunks are skipped, so nothing is half-written
    # after the files below are gone (a chunk already running may still write its part: see README).
    cancelled = 0
    for task in tasks:
        if not task.status.is_terminal and data.tasks.mark_cancelled(tenant, task.task_id) is not None:
            cancelled += 1
    webhooks = 0
    for webhook in data.webhooks.for_tenant(tenant):
        webhooks += bool(data.webhooks.delete(tenant, webhook.webhook_id))
    batch_records = 0
    if data.provider_batches is not None:
        for task in tasks:
            batch_records += data.provider_batches.erase_task(tenant, task.task_id)
    objects = data.objects.erase_tenant(tenant, TENANT_AREAS)
    for task in tasks:
        data.tasks.delete(tenant, task.task_id)
    # Tasks created while this ran (by a key still valid) are erased too: the table is read again.
    late = data.tasks.all_of_tenant(tenant)
    for task in late:
        if not task.status.is_terminal:
            data.tasks.mark_cancelled(tenant, task.task_id)
        data.tasks.delete(tenant, task.task_id)
    receipt = ErasureReceipt(
        tenant=tenant,
        tasks_cancelled=cancelled,
        tasks=len(tasks) + len(late),
        objects=objects,
        webhooks=webhooks,
        budget_records=data.budgets.erase(tenant),
        cache_entries=data.cache.erase_tenant(tenant) if data.cache is not None else 0,
        provider_batch_records=batch_records,
        model_records=data.models.erase(tenant) if data.models is not None else 0,
    )
    logger.info(
        "tenant data erased",
        extra={
            "tenant": tenant,
            "tasks": receipt.tasks,
            "objects": sum(objects.values()),
            "webhooks": webhooks,
            "cancelled": cancelled,
        },
    )
    return receipt
