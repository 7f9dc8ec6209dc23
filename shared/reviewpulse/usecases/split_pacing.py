"""When a split lets its chunks go: held until the task's mode is known, and handed on at the
function's deadline.

**Batch API mode.** On an LLM engine whose mode waits on the file's size, no chunk is let go
before it is known whether the file makes it a Batch API task (`hold_until_mode_known`).

**Hand-on.** A Lambda function has at most its Timeout (the splitter's is 300 s), and a file of a
million rows takes longer to read and queue than that. A function that timed out had its message
delivered again only after the queue's visibility timeout (30 minutes), and then split the file
from its start. So the splitter is given a deadline (the Lambda context's remaining time, less a
margin: functions/split/app.py) and, once it has passed, stops between two chunks: it records on
the task the index of the first chunk it did not queue (one conditional write, `Move.HAND_ON_SPLIT`)
and sends its own ingest queue a `resume` split request, which the next invocation takes at once.
That invocation reads the file from its start again (rows are numbered and chunked the same way
every time: the file is read at the ETag it was claimed at) but queues only the chunks from the
checkpoint on. Every invocation queues at least one chunk, so a split always moves on.

Exactly once: a resumed split never queues a chunk below its checkpoint again. A crash between
queueing chunks and writing the checkpoint queues at most that invocation's chunks twice, and a
chunk is counted once per index however often it is queued (TaskRepository.record_chunk). Of two
copies of one resume message, only the one whose checkpoint write wins hands on again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator

from reviewpulse.observability import MetricUnit, logger, metrics
from reviewpulse.queues import IngestQueue, WorkMessage
from reviewpulse.tasks.model import Task
from reviewpulse.tasks.repository import TaskRepository

BATCH_MODE_NOTE = (
    "the task has at least {n} items: its LLM requests go through the provider's Batch API "
    "(answered within 24 hours, at the batch price)"
)


def hold_until_mode_known(chunks: Iterator, batch_at: Callable[[int], bool], choose: Callable[[], None]) -> Iterator:
    """The chunks unchanged; but none is let go before it is known whether the file's items make it
    a Batch API task (`batch_at(items so far)`, the rule of analysis/options.py:uses_batch_api), and
    if they do `choose` records batch mode first, so every chunk's worker sees the task's final
    mode. At most the deployment's LlmBatchMinItems items are held in memory."""
    held: list | None = []
    items = 0
    for chunk in chunks:
        if held is None:
            yield chunk
            continue
        held.append(chunk)
        items += len(chunk.items)
        if batch_at(items):
            choose()
            yield from held
            held = None
    if held:
        yield from held


def choose_batch_mode(tasks: TaskRepository, task: Task, threshold: int) -> None:
    chosen = tasks.choose_batch_mode(task.tenant, task.task_id, note=BATCH_MODE_NOTE.format(n=threshold))
    logger.info(
        "task switched to Batch API mode",
        extra={"tenant": task.tenant, "task_id": task.task_id, "chosen": chosen is not None},
    )


class HandOff:
    """One invocation's share of a split: from the task's checkpoint (`first`) to the first chunk
    that comes after `deadline` (time.monotonic() seconds; None: no deadline), at least one."""

    def __init__(self, task: Task, deadline: float | None) -> None:
        self.seen = task.split_next_chunk
        self.first = task.split_next_chunk or 0
        self.deadline = deadline
        self.queued = 0
        self.stopped_at: int | None = None  # the first chunk left to the next invocation

    def until_deadline(self, messages: Iterable[WorkMessage]) -> Iterator[WorkMessage]:
        for message in messages:
            if self.queued and self.deadline is not None and time.monotonic() >= self.deadline:
                self.stopped_at = message.chunk
                return
            self.queued += 1
            yield message

    def hand_on(self, tasks: TaskRepository, ingest: IngestQueue, task: Task, correlation_id: str | None) -> bool:
        """Record the checkpoint and ask the ingest queue for the rest; False if another copy of
        this split recorded a checkpoint first (it hands on, not this one)."""
        assert self.stopped_at is not None
        moved = tasks.hand_on_split(task.tenant, task.task_id, seen=self.seen, next_chunk=self.stopped_at)
        if moved is None:
            logger.info("split hand-on left to another copy", extra={"tenant": task.tenant, "task_id": task.task_id})
            return False
        ingest.request_split(task.tenant, task.task_id, correlation_id, resume=True)
        metrics.add_metric(name="SplitHandOns", unit=MetricUnit.Count, value=1)
        logger.info(
            "split handed on before the function's timeout",
            extra={"tenant": task.tenant, "task_id": task.task_id, "from": self.first, "next": self.stopped_at},
        )
        return True
