"""A task's Batch API state, kept on its item: whether it runs in Batch API mode (options.mode)
and where its provider batches stand (`llm_batch`). The provider batches themselves are recorded
by provider_batches.repository.
"""

from __future__ import annotations

from reviewpulse.clock import now
from reviewpulse.tasks.model import LlmBatchState, Move, Task
from reviewpulse.tasks.table import TaskTable, status_in


class BatchApiState(TaskTable):
    def choose_batch_mode(self, tenant: str, task_id: str, *, note: str) -> Task | None:
        """The splitter found the task large enough for the Batch API: options.mode becomes batch
        before any of its chunks is sent (a task that named its mode keeps it)."""
        allowed, allowed_values = status_in(Move.CHOOSE_BATCH_MODE)
        return self._update(
            tenant,
            task_id,
            set="#options.#mode = :batch, notes = list_append(if_not_exists(notes, :empty), :note), updated_at = :now",
            condition=f"{allowed} AND attribute_not_exists(chunk_count) "
            "AND (attribute_not_exists(#options.#mode) OR attribute_type(#options.#mode, :null))",
            values={
                ":batch": "batch",
                ":null": "NULL",
                ":empty": [],
                ":note": [note],
                ":now": now().isoformat(),
                **allowed_values,
            },
            names={"#options": "options", "#mode": "mode"},
        )

    def record(self, tenant: str, task_id: str, state: LlmBatchState) -> Task | None:
        """Show where the task's provider batches stand. It also moves updated_at: a task waiting
        on the Batch API (up to 24 hours) is not stalled while its collector sees it."""
        allowed, allowed_values = status_in(Move.RECORD_LLM_BATCH)
        return self._update(
            tenant,
            task_id,
            set="llm_batch = :state, updated_at = :now",
            condition=allowed,
            values={":state": state.model_dump(), ":now": now().isoformat(), **allowed_values},
        )
