"""The dead-letter queue of the work and finalize queues: a chunk, or a finalize request."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Discriminator, Tag, TypeAdapter

from reviewpulse.queues import FinalizeRequest, WorkMessage


def _dead_letter_kind(body: Any) -> str | None:
    if isinstance(body, dict):
        return "chunk" if "chunk" in body else "finalize" if "task_id" in body else None
    return None


DeadLetter = Annotated[
    Annotated[WorkMessage, Tag("chunk")] | Annotated[FinalizeRequest, Tag("finalize")],
    Discriminator(_dead_letter_kind),
]
DEAD_LETTERS: TypeAdapter[DeadLetter] = TypeAdapter(DeadLetter)
