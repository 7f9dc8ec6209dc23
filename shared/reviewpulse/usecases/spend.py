"""Spending against budgets, on every path that sends LLM requests.

- A task's chunk (TaskSpend): each synchronous LLM request is reserved against the task's
  options.max_cost_usd (on the task item) and the tenant's monthly budget (tenants.budgets) before it
  is sent, and settled from the usage the server reported after it (analysis/llm/spend_gate.py).
- POST /v1/analyze (TaskSpend without a task): the same, against the tenant's monthly budget only.
- Batch API mode (BatchSpend): each provider batch reserves its requests' estimated cost at the
  batch price before it is submitted, and is settled from the usage of its answers when it ended;
  both written once per round (provider_batches.repository), together with the budgets' counters.

Every amount is priced by cost_micros, which prices through Prices.usage_cost_usd, the function
that prices the cost a task shows: quotes, reservations, settlements and usage cannot disagree.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from reviewpulse.analysis.llm.estimate import TokenEstimate, estimate_request
from reviewpulse.analysis.llm.pricing import Prices
from reviewpulse.analysis.sentiment import Usage
from reviewpulse.clock import now
from reviewpulse.observability import MetricUnit, logger, metrics
from reviewpulse.provider_batches.model import AnswerRecord, RoundReservation
from reviewpulse.provider_batches.repository import ProviderBatchRepository
from reviewpulse.tasks.model import Task
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


def cost_micros(prices: Prices, input_tokens: int, output_tokens: int, *, batch: bool = False) -> int:
    """What these tokens cost, in micros: synchronous requests at the full price, Batch API ones at
    the batch price, through Prices.usage_cost_usd (the cost a task shows), so the two agree."""
    usage = Usage(input_tokens=input_tokens, output_tokens=output_tokens)
    if batch:
        usage.batch_input_tokens, usage.batch_output_tokens = input_tokens, output_tokens
    return to_micros(prices.usage_cost_usd(usage))


def report_monthly_use(tenant: str, settled_micros: int, limit_micros: int | None) -> None:
    """MonthlyBudgetUsedPercent after a settlement, whichever path spent it; the alarm in
    template.yaml fires when it reaches ALERT_PERCENT for any tenant."""
    if not limit_micros:
        return
    percent = 100.0 * settled_micros / limit_micros
    metrics.add_metric(name="MonthlyBudgetUsedPercent", unit=MetricUnit.Percent, value=percent)
    if percent >= ALERT_PERCENT:
        logger.warning("tenant near its monthly budget", extra={"tenant": tenant, "percent": percent})


class TaskSpend:
    """The spend gate of one task's chunk (analysis.llm.spend.SpendGate): reserves each request
    against the task's max_cost_usd and the tenant's monthly budget, settles it from the usage.
    Without a task (`task_id` None: POST /v1/analyze), against the tenant's monthly budget only."""

    def __init__(
        self,
        tenant: str,
        task_id: str | None,
        *,
        task_limit_usd: float | None,
        tasks: TaskRepository | None,
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

    def reserve(self, estimate: TokenEstimate) -> Reservation | None:
        micros = cost_micros(self._prices, estimate.input_tokens, estimate.output_tokens)
        month = month_of(self._clock())
        tasks, task = self._tasks, self._task_id
        if tasks is not None and task is not None:
            if not tasks.spend.reserve(self._tenant, task, micros, limit_micros=self._task_limit):
                return self._refused(TASK_BUDGET, micros)
        if not self._budgets.reserve(self._tenant, month, micros, limit_micros=self._monthly_limit):
            if tasks is not None and task is not None:
                # Give the task's reservation back: this request is not sent.
                tasks.spend.settle(self._tenant, task, reserved_micros=micros, spent_micros=0)
            return self._refused(MONTHLY_BUDGET, micros)
        return Reservation(micros, month)

    def settle(self, reservation: Reservation, input_tokens: int, output_tokens: int) -> None:
        spent = cost_micros(self._prices, input_tokens, output_tokens)
        if self._tasks is not None and self._task_id is not None:
            self._tasks.spend.settle(
                self._tenant, self._task_id, reserved_micros=reservation.micros, spent_micros=spent
            )
        settled = self._budgets.settle(
            self._tenant, reservation.month, reserved_micros=reservation.micros, spent_micros=spent
        )
        report_monthly_use(self._tenant, settled, self._monthly_limit)

    def _refused(self, budget: str, micros: int) -> None:
        with self._lock:
            self.exhausted = self.exhausted or budget
            self.refused_micros = max(self.refused_micros, micros)
        logger.info("LLM request refused by a budget", extra={"tenant": self._tenant, "budget": budget})
        return None


@dataclass(frozen=True)
class RoundPlan:
    """What a collector may submit as a chunk's round: its reservation (the requests that fitted;
    an earlier run's, if that run died before recording the round it submitted)."""

    reservation: RoundReservation | None  # None: refused by a race it could not win; try next run
    exhausted: str | None = None  # which budget cut the round, if one did


class BatchSpend:
    """Budgets for Batch API mode: a provider batch (a chunk's round) reserves its requests at the
    batch price against the task's max_cost_usd and the tenant's monthly budget before it is
    submitted, as many of them as fit, and is settled once from its answers' usage when it ended
    (failed and expired requests cost nothing: their reservation is released).

    Reservation and settlement are each one transaction with the round's own record, so a run
    that dies, a duplicated run or a resubmitted round counts nothing twice: a round number is
    reserved once (an unrecorded submission sent again reuses its reservation) and settled once.
    A budget's committed spend never passes its limit, so the overshoot is at most what one
    provider batch costs beyond its estimate."""

    # Another worker may take the room between the read and the conditional write: read again.
    ATTEMPTS = 4

    def __init__(
        self,
        *,
        tasks: TaskRepository,
        budgets: BudgetRepository | None,
        provider_batches: ProviderBatchRepository,
        prices: Prices,
        clock: Callable[[], datetime] = now,
    ) -> None:
        self._tasks = tasks
        self._budgets = budgets
        self._records = provider_batches
        self._prices = prices
        self._clock = clock

    def reserve_round(
        self,
        task: Task,
        chunk: int,
        number: int,
        requests: dict[str, list[int]],
        texts: dict[int, str],
        *,
        keep_refused: bool = True,
    ) -> RoundPlan:
        """Reserve round `number` of a chunk: the longest prefix of `requests` whose estimate fits
        every budget that applies; the rows of the rest are refused (and recorded as such with the
        reservation when `keep_refused`). Nothing is written when nothing fits and nothing is kept."""
        costs = [
            cost_micros(self._prices, estimate.input_tokens, estimate.output_tokens, batch=True)
            for rows in requests.values()
            for estimate in [estimate_request([texts[row] for row in rows], task.options.aspects, task.options.report)]
        ]
        for _ in range(self.ATTEMPTS):
            if task.options.max_cost_usd is not None:  # its committed spend as it is now
                task = self._tasks.get(task.tenant, task.task_id) or task
            month = month_of(self._clock())
            room, exhausted, task_limit, monthly_limit = self._room(task, month)
            granted: dict[str, list[int]] = {}
            total = 0
            refused_micros = 0
            for (custom_id, rows), cost in zip(requests.items(), costs, strict=True):
                if room is not None and total + cost > room:
                    refused_micros = cost
                    break
                granted[custom_id] = rows
                total += cost
            refused_rows = [row for custom_id, rows in requests.items() if custom_id not in granted for row in rows]
            reservation = RoundReservation(
                micros=total,
                month=month,
                requests=granted,
                refused_rows=refused_rows if keep_refused else [],
                refused_micros=refused_micros,
            )
            cut = exhausted if refused_rows else None
            ledger = []
            if total:
                ledger.append(self._tasks.spend.reserve_item(task.tenant, task.task_id, total, limit_micros=task_limit))
                if self._budgets is not None:
                    ledger.append(self._budgets.reserve_item(task.tenant, month, total, limit_micros=monthly_limit))
            if cut:
                logger.info(
                    "Batch API round cut by a budget",
                    extra={"tenant": task.tenant, "task_id": task.task_id, "budget": cut},
                )
            if not granted and not reservation.refused_rows:
                return RoundPlan(reservation, cut)
            written = self._records.reserve_round(task.tenant, task.task_id, chunk, number, reservation, ledger)
            if written == "reserved":
                return RoundPlan(reservation, cut)
            if written == "exists":
                return RoundPlan(self._existing(task, chunk, number))
            # Refused: another worker took the room between the read and the write; read again.
        return RoundPlan(None)

    def settle_round(
        self,
        tenant: str,
        task_id: str,
        chunk: int,
        number: int,
        reservation: RoundReservation | None,
        answers: list[AnswerRecord],
        *,
        task_exists: bool = True,
    ) -> bool:
        """Settle a round that ended with the usage of its billed answers (failed and expired
        requests cost nothing); False if it had no reservation or was settled before."""
        if reservation is None or reservation.settled_micros is not None:
            return False
        billed = [answer for answer in answers if answer.custom_id in reservation.requests and answer.billed]
        spent = cost_micros(
            self._prices,
            sum(answer.input_tokens for answer in billed),
            sum(answer.output_tokens for answer in billed),
            batch=True,
        )
        ledger = []
        if task_exists:  # a purged task has no item left to settle: the month still is
            ledger.append(
                self._tasks.spend.settle_item(tenant, task_id, reserved_micros=reservation.micros, spent_micros=spent)
            )
        if self._budgets is not None and reservation.micros:
            ledger.append(
                self._budgets.settle_item(
                    tenant, reservation.month, reserved_micros=reservation.micros, spent_micros=spent
                )
            )
        settled = self._records.settle_round(tenant, task_id, chunk, number, spent, ledger)
        reservation.settled_micros = spent
        if settled and self._budgets is not None and reservation.micros:
            month = self._budgets.month(tenant, reservation.month)
            report_monthly_use(tenant, month.settled_micros, month.limit_micros)
        return settled

    def _room(self, task: Task, month: str) -> tuple[int | None, str | None, int | None, int | None]:
        """The room left under every budget that applies (None: no limit), the budget with the
        least room, and the two limits."""
        task_limit = to_micros(task.options.max_cost_usd) if task.options.max_cost_usd is not None else None
        rooms: list[tuple[int, str]] = []
        if task_limit is not None:
            rooms.append((task_limit - task.spend_committed_micros, TASK_BUDGET))
        monthly_limit = None
        if self._budgets is not None:
            spend = self._budgets.month(task.tenant, month)
            monthly_limit = spend.limit_micros
            if monthly_limit is not None:
                rooms.append((monthly_limit - spend.committed_micros, MONTHLY_BUDGET))
        if not rooms:
            return None, None, task_limit, monthly_limit
        room, budget = min(rooms)
        return max(room, 0), budget, task_limit, monthly_limit

    def _existing(self, task: Task, chunk: int, number: int) -> RoundReservation | None:
        job = next((job for job in self._records.chunks(task.tenant, task.task_id) if job.chunk == chunk), None)
        return job.reservations.get(str(number)) if job is not None else None
