"""The spend gate of a task's chunk: each LLM request is reserved against the task's
options.max_cost_usd (on the task item) and the tenant's monthly budget (tenants.budgets) before it
is sent, and settled from the usage the server reported after it (analysis/llm/spend.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from reviewpulse.analysis.base import Usage
from reviewpulse.analysis.llm.estimate import TokenEstimate
from reviewpulse.analysis.llm.pricing import Prices
from reviewpulse.clock import now
from reviewpulse.observability import MetricUnit, logger, metrics
from reviewpulse.tasks.repository import TaskRepository
from reviewpulse.tenants.budgets import BudgetRepository, month_of, to_micros

# The share of a tenant's monthly budget at which the MonthlyBudgetUsedPercent alarm fires.
ALERT_PERCENT = 80.0


@dataclass(frozen=True)
class Reservation:
    micros: int
    month: str


TASK_BUDGET = "the task's budget (options.max_cost_usd)"
MONTHLY_BUDGET = "the tenant's monthly budget"


class TaskSpend:
    """The spend gate of one task's chunk (analysis.llm.spend.SpendGate): reserves each request
    against the task's max_cost_usd and the tenant's monthly budget, settles it from the usage."""

    def __init__(
        self,
        tenant: str,
        task_id: str,
        *,
        task_limit_usd: float | None,
        tasks: TaskRepository,
        budgets: BudgetRepository,
        prices: Prices,
        clock: Callable[[], datetime] = now,
    ) -> None:
        self._tenant = tenant
        self._task_id = task_id
        self._task_limit = to_micros(task_limit_usd) if task_limit_usd is not None else None
        self._tasks = tasks
        self._budgets = budgets
        self._prices = prices
        self._clock = clock
        self._lock = threading.Lock()
        self.exhausted: str | None = None  # which budget refused a request, once one has
        self.refused_micros = 0  # the largest request it refused: the room a resume needs

    @cached_property
    def _monthly_limit(self) -> int | None:
        # Read once per chunk, at its first LLM request (a chunk the lexicon settles reads nothing).
        return self._budgets.monthly_limit(self._tenant)

    def _cost_micros(self, input_tokens: int, output_tokens: int) -> int:
        # Priced by the same function as the cost a task shows (Prices.usage_cost_usd), so the two
        # cannot disagree. The gate only sees synchronous requests: Batch API mode is not gated.
        return to_micros(self._prices.usage_cost_usd(Usage(input_tokens=input_tokens, output_tokens=output_tokens)))

    def reserve(self, estimate: TokenEstimate) -> Reservation | None:
        micros = self._cost_micros(estimate.input_tokens, estimate.output_tokens)
        month = month_of(self._clock())
        if not self._tasks.reserve_spend(self._tenant, self._task_id, micros, limit_micros=self._task_limit):
            return self._refused(TASK_BUDGET, micros)
        if not self._budgets.reserve(self._tenant, month, micros, limit_micros=self._monthly_limit):
            # Give the task's reservation back: this request is not sent.
            self._tasks.settle_spend(self._tenant, self._task_id, reserved_micros=micros, spent_micros=0)
            return self._refused(MONTHLY_BUDGET, micros)
        return Reservation(micros, month)

    def settle(self, reservation: Reservation, input_tokens: int, output_tokens: int) -> None:
        spent = self._cost_micros(input_tokens, output_tokens)
        self._tasks.settle_spend(self._tenant, self._task_id, reserved_micros=reservation.micros, spent_micros=spent)
        settled = self._budgets.settle(
            self._tenant, reservation.month, reserved_micros=reservation.micros, spent_micros=spent
        )
        if self._monthly_limit:
            # The alarm in template.yaml fires when this reaches ALERT_PERCENT for any tenant.
            percent = 100.0 * settled / self._monthly_limit
            metrics.add_metric(name="MonthlyBudgetUsedPercent", unit=MetricUnit.Percent, value=percent)
            if percent >= ALERT_PERCENT:
                logger.warning("tenant near its monthly budget", extra={"tenant": self._tenant, "percent": percent})

    def _refused(self, budget: str, micros: int) -> None:
        with self._lock:
            self.exhausted = self.exhausted or budget
            self.refused_micros = max(self.refused_micros, micros)
        logger.info("LLM request refused by a budget", extra={"tenant": self._tenant, "budget": budget})
        return None
