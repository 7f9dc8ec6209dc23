"""The split's counting and its quote: the items and chunks a split sends (with the teaching
sample's rows marked), and for a `quote_only` task the quote recorded from them instead of any
work (usecases/split.py runs the file through both)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from reviewpulse.analysis.engines.base import Engine, EngineParts, LlmShare
from reviewpulse.analysis.engines.registry import sends_only_unsure, teacher_for
from reviewpulse.analysis.llm.pricing import Prices
from reviewpulse.analysis.options import uses_batch_api
from reviewpulse.analysis.sentiment import Usage
from reviewpulse.observability import logger
from reviewpulse.queues import WorkItem, WorkMessage
from reviewpulse.settings import Settings
from reviewpulse.tasks.model import TEACH_QUOTE_HOW, Quote, Task, TeachQuote
from reviewpulse.tasks.repository import TaskRepository


class ItemCounter:
    """What the split has sent so far: items, chunks, and the teaching sample's rows and quote."""

    def __init__(self) -> None:
        self.items = 0
        self.chunks = 0
        self.total = 0  # options.teach: the file's items, from a counting pass
        self.sample: frozenset[int] = frozenset()  # the teaching sample's rows (options.teach)
        self.teach_share = LlmShare()  # what the sample's LLM requests are quoted at

    def messages(self, task: Task, chunks: Iterator, *, first: int = 0) -> Iterator[WorkMessage]:
        """A message of each chunk from index `first` on; those before it are counted only (a split
        that handed itself on queued them: split_pacing.py)."""
        for chunk in chunks:
            self.items += len(chunk.items)
            self.chunks += 1
            if chunk.index < first:
                continue
            items = [WorkItem.model_validate(item) for item in chunk.items]
            for item in items:
                if item.row in self.sample:
                    item.teach = True
            yield WorkMessage(tenant=task.tenant, task_id=task.task_id, chunk=chunk.index, items=items)


def teach_quote(task: Task, counter: ItemCounter, share: LlmShare, settings: Settings) -> TeachQuote:
    """options.teach in the quote (TEACH_QUOTE_HOW says how); `share`: the LLM share of the items
    outside the sample."""
    t = counter.teach_share.tokens
    sample_cost = Prices.of(settings).usage_cost_usd(
        Usage(requests=t.requests, input_tokens=t.input_tokens, output_tokens=t.output_tokens)
    )
    per_item = sample_cost / counter.teach_share.items if counter.teach_share.items else 0.0
    rest = counter.items - len(counter.sample)
    without = round(share.items * counter.items / rest) if sends_only_unsure(task.options) and rest else None
    return TeachQuote(
        sample_items=counter.teach_share.items,
        sample_cost_usd=round(sample_cost, 6),
        later_llm_items_without_model=without,
        later_saving_usd_at_most=round(without * per_item, 6) if without is not None else None,
        how=TEACH_QUOTE_HOW,
    )


def quote_teacher(task: Task, settings: Settings) -> Engine | None:
    """The engine that answers an auto task's teaching sample (the LLM), for its quote."""
    return teacher_for(task.options, EngineParts(settings))


@dataclass(frozen=True)
class RecordQuote:
    """Command: record `task`'s quote from what its split counted (`counter`, the LLM's `share`)."""

    task: Task
    counter: ItemCounter
    share: LlmShare


class Quoting(Protocol):
    """What a quote needs of the splitter's collaborators (usecases/split.py's Splitter, which
    imports this module)."""

    tasks: TaskRepository
    settings: Settings


def record_quote(command: RecordQuote, splitter: Quoting) -> None:
    """The task's quote, from what the split counted: items, the LLM's share, tokens and cost as
    the run will be billed, and with options.teach what teaching costs and may save."""
    task, counter, share = command.task, command.counter, command.share
    tasks, settings = splitter.tasks, splitter.settings
    teach = None
    if task.options.teach is not None:
        teach = teach_quote(task, counter, share, settings)
        if sends_only_unsure(task.options):
            share = share + counter.teach_share  # the run sends the sample to the LLM as well
    tokens = share.tokens
    # Priced as the run will be billed (Prices.usage_cost_usd, as the task's cost): at the batch
    # price when its requests will go through the Batch API (asked for, or chosen by size).
    batch = uses_batch_api(task.options.mode, items=counter.items, threshold=settings.llm_batch_min_items)
    estimate = Usage(requests=tokens.requests, input_tokens=tokens.input_tokens, output_tokens=tokens.output_tokens)
    if batch and share.items:
        estimate.batch_requests = tokens.requests
        estimate.batch_input_tokens = tokens.input_tokens
        estimate.batch_output_tokens = tokens.output_tokens
    quote = Quote(
        items=counter.items,
        llm_items=share.items,
        requests=tokens.requests,
        input_tokens=tokens.input_tokens,
        output_tokens=tokens.output_tokens,
        estimated_cost_usd=round(Prices.of(settings).usage_cost_usd(estimate), 6),
        teach=teach,
    )
    tasks.record_quote(task.tenant, task.task_id, quote)
    logger.info(
        "file quoted",
        extra={"tenant": task.tenant, "task_id": task.task_id, "items": counter.items, "llm_items": share.items},
    )
