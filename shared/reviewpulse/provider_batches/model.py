"""What Batch API mode keeps per task, per chunk and per request (custom_id)."""

from __future__ import annotations

from pydantic import BaseModel, Field

# The provider's batch statuses after which nothing changes (OpenAI's names).
FINISHED_STATUSES = frozenset({"completed", "failed", "expired", "cancelled"})


class RequestCounts(BaseModel):
    total: int = 0
    completed: int = 0
    failed: int = 0


class Round(BaseModel):
    """One provider batch of a chunk: the requests it carries (custom_id → the rows asked, in the
    order of their local ids 1..n) and the state last seen. Round 0 asks every row the chunk sends
    to the LLM; each later round only the rows still unanswered."""

    batch_id: str
    input_file_id: str = ""
    status: str = "validating"
    request_counts: RequestCounts = Field(default_factory=RequestCounts)
    requests: dict[str, list[int]] = Field(default_factory=dict)
    collected: bool = False  # its output and error files have been read and every answer recorded

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STATUSES


class RoundReservation(BaseModel):
    """What a round (provider batch) reserved against the task's and the tenant's budgets before it
    was submitted, written once per round number together with the budgets' own counters: the
    requests it may carry (those whose estimate, at the batch price, fitted), the rows a budget
    had no room for, and, once the batch ended, what its answers cost (settled once)."""

    micros: int = 0
    month: str = ""
    requests: dict[str, list[int]] = Field(default_factory=dict)
    refused_rows: list[int] = Field(default_factory=list)
    refused_micros: int = 0  # the first request that did not fit: the room a resume needs
    settled_micros: int | None = None


class ChunkJob(BaseModel):
    chunk: int
    counted: bool = False
    rounds: dict[str, Round] = Field(default_factory=dict)  # by round number ("0", "1", ...)
    reservations: dict[str, RoundReservation] = Field(default_factory=dict)  # by round number

    @property
    def budget_rows(self) -> set[int]:
        """Rows a budget had no room for (with on_budget_exhausted lexicon, the lexicon answers them)."""
        return {row for reservation in self.reservations.values() for row in reservation.refused_rows}

    def ordered_rounds(self) -> list[tuple[int, Round]]:
        return sorted(((int(n), r) for n, r in self.rounds.items()), key=lambda pair: pair[0])

    @property
    def next_round(self) -> int:
        return max((int(n) for n in self.rounds), default=-1) + 1


class AnswerRecord(BaseModel):
    """What the provider answered for one custom_id, recorded once (a conditional write): an answer
    already paid for is kept whatever happens to its batch later."""

    custom_id: str
    status_code: int  # 200 for an answer; the request's HTTP status, or 0 when it never ran
    content: str | None = None
    finish_reason: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    error_code: str | None = None  # batch_expired, batch_cancelled, server_error, ...

    @property
    def billed(self) -> bool:
        return self.status_code == 200
