"""What the LLM engine asks before each request, and tells after it: the spend gate.

The engine knows tokens, not money or budgets. Before a request it asks the gate to reserve the
request's estimated tokens (estimate.py); the gate prices them and reserves that much against
every budget that applies, with a conditional write, or refuses. After the request it settles the
reservation with the usage the server reported (or releases it, when the request failed). So
concurrent workers can overshoot a budget by at most what the requests already in flight cost
beyond their estimates. The DynamoDB side lives in tenants.budgets; this module is free of boto3.
"""

from __future__ import annotations

from typing import Protocol

from reviewpulse.analysis.llm.estimate import TokenEstimate


class Reservation(Protocol):
    """What one granted reserve() returns, handed back to settle()."""


class SpendGate(Protocol):
    def reserve(self, estimate: TokenEstimate) -> Reservation | None:
        """Reserve the estimated cost of one request; None when a budget has no room for it."""
        ...

    def settle(self, reservation: Reservation, input_tokens: int, output_tokens: int) -> None:
        """Replace the reservation with what the request cost (zeros when it failed)."""
        ...
