"""A task taught first (options.teach on auto, usecases/teach_first.py): its teaching phase on the
task item, each step one conditional write, so that a redelivered or racing step cannot repeat one.

    sample    the splitter queued only the sample's chunks, 0..teach_sample_chunks-1
    training  the sample is counted; its model was asked for (exactly once: the write that wins)
    rest      the other rows are queued as chunks teach_sample_chunks.., read through the model
              (options.model_id) or, if none could be taught, by auto as before (teach_failure)

None of these changes the task's status (Move.TEACH keeps it), and none counts an item: the
chunks of both sets are counted as any chunk is, once per index.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from reviewpulse.clock import now
from reviewpulse.tasks.model import TEACH_REST, TEACH_SAMPLE, TEACH_TRAINING, Move, Task
from reviewpulse.tasks.table import TaskTable, status_in


class TeachingState(TaskTable):
    def begin(self, tenant: str, task_id: str, *, sample_chunks: int) -> Task | None:
        """The sample's chunks are queued: the task waits for its model. Again on a split that is
        redone (the same chunks); None once the teaching has moved on, or the task has ended."""
        return self._teach(
            tenant,
            task_id,
            set="teach_phase = :sample, teach_sample_chunks = :k",
            condition="attribute_not_exists(teach_phase) OR teach_phase = :sample",
            values={":sample": TEACH_SAMPLE, ":k": sample_chunks},
        )

    def start_training(self, tenant: str, task_id: str) -> Task | None:
        """sample → training: only the caller this returns a task to asks for the model."""
        return self._teach(
            tenant,
            task_id,
            set="teach_phase = :training",
            condition="teach_phase = :sample",
            values={":sample": TEACH_SAMPLE, ":training": TEACH_TRAINING},
        )

    def record_rest(
        self,
        tenant: str,
        task_id: str,
        *,
        chunk_count: int,
        model_id: str | None,
        min_confidence: float | None,
        failure: str | None,
    ) -> Task | None:
        """training → rest: the chunks of the whole task, and what reads the rest (the model, or
        the threshold auto reads the lexicon with, and why no model). None if it had moved on."""
        sets = ["teach_phase = :rest", "chunk_count = :chunks", "options.model_id = :model"]
        values: dict[str, Any] = {
            ":training": TEACH_TRAINING,
            ":rest": TEACH_REST,
            ":chunks": chunk_count,
            ":model": model_id,
        }
        if min_confidence is not None:
            sets.append("options.min_confidence = :threshold")
            values[":threshold"] = Decimal(str(min_confidence))  # DynamoDB takes no float
        if failure is not None:
            sets.append("teach_failure = :failure")
            values[":failure"] = failure
        return self._teach(tenant, task_id, set=", ".join(sets), condition="teach_phase = :training", values=values)

    def _teach(self, tenant: str, task_id: str, *, set: str, condition: str, values: dict[str, Any]) -> Task | None:
        allowed, allowed_values = status_in(Move.TEACH)
        return self._update(
            tenant,
            task_id,
            set=f"{set}, updated_at = :now",
            condition=f"{allowed} AND ({condition})",
            values={**values, **allowed_values, ":now": now().isoformat()},
        )
