"""A task's spend ledger, kept on its item: what the LLM was paid for it (settled) and what is
reserved on top for requests in flight (committed), in millionths of a dollar, and the limit its
owner set (options.max_cost_usd). Reserved and settled by usecases.spend around each LLM request,
with the tenant's monthly budget (tenants.budgets).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from reviewpulse.clock import now
from reviewpulse.tasks.model import Move
from reviewpulse.tasks.table import TaskTable, status_in


class SpendLedger(TaskTable):
    def reserve(self, tenant: str, task_id: str, micros: int, *, limit_micros: int | None) -> bool:
        """Add `micros` to what the task has committed (settled + in flight), only if that stays
        within `limit_micros` (options.max_cost_usd); False, changing nothing, if it would not."""
        if limit_micros is not None and micros > limit_micros:
            return False
        return self._update(tenant, task_id, **_reserve_args(micros, limit_micros)) is not None

    def settle(self, tenant: str, task_id: str, *, reserved_micros: int, spent_micros: int) -> None:
        """Replace a reservation with what the request cost."""
        self._update(tenant, task_id, **_settle_args(reserved_micros, spent_micros))

    # The same two writes as one item of a transaction (TransactWriteItems), for Batch API mode: a
    # provider batch's reservation and settlement are written together with the record that makes
    # them happen once (provider_batches.repository).
    def reserve_item(self, tenant: str, task_id: str, micros: int, *, limit_micros: int | None) -> dict:
        return {"Update": self._update_request(tenant, task_id, **_reserve_args(micros, limit_micros))}

    def settle_item(self, tenant: str, task_id: str, *, reserved_micros: int, spent_micros: int) -> dict:
        return {"Update": self._update_request(tenant, task_id, **_settle_args(reserved_micros, spent_micros))}

    def raise_limit(self, tenant: str, task_id: str, max_cost_usd: float) -> bool:
        """A paused task's owner gives it more room (POST .../resume with max_cost_usd)."""
        allowed, allowed_values = status_in(Move.RAISE_BUDGET)
        raised = self._update(
            tenant,
            task_id,
            set="#o.max_cost_usd = :max, updated_at = :now",
            condition=allowed,
            values={":max": Decimal(str(max_cost_usd)), ":now": now().isoformat(), **allowed_values},
            names={"#o": "options"},
        )
        return raised is not None


def _reserve_args(micros: int, limit_micros: int | None) -> dict[str, Any]:
    # Spend is kept whatever the task's status: a request in flight when its task ended still settles.
    condition = "attribute_exists(#s)"
    values: dict[str, Any] = {":m": micros, ":now": now().isoformat()}
    if limit_micros is not None:
        # DynamoDB conditions cannot add: "committed + m <= limit" is written "committed <= limit - m".
        condition += " AND (attribute_not_exists(spend_committed_micros) OR spend_committed_micros <= :room)"
        values[":room"] = limit_micros - micros
    return {"set": "updated_at = :now", "add": ["spend_committed_micros :m"], "condition": condition, "values": values}


def _settle_args(reserved_micros: int, spent_micros: int) -> dict[str, Any]:
    return {
        "set": "updated_at = :now",
        "add": ["spend_committed_micros :change", "spend_settled_micros :spent"],
        "condition": "attribute_exists(#s)",
        "values": {":change": spent_micros - reserved_micros, ":spent": spent_micros, ":now": now().isoformat()},
    }
