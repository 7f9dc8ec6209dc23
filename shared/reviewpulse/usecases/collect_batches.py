"""Batch API mode's collector (scheduled): submit waiting chunks to the provider's Batch API, collect
what each batch answered, resubmit only what is still unanswered, and count each chunk once.

One run takes each task with waiting chunks under a lease (one collector per task at a time) and,
per chunk:

1. reads the state of every provider batch (round) not yet collected; a finished one (completed,
   failed, expired, cancelled) has its output and error files read and every line recorded under
   its custom_id, once (a conditional write): an answer already paid for is kept whatever happens
   to its batch;
2. maps the recorded answers back to rows with the synchronous engine's checks (strict schema,
   exact ids, verbatim evidence); the earliest round's answer of a row wins;
3. when every round is collected: rows still unanswered go in a new round (smaller requests, so a
   text that cannot be answered among others stands alone sooner) until MAX_ROUNDS, after which
   they follow the deployment's fallback policy; a chunk with every row answered is stored and
   counted through store_and_count, the path every chunk takes, which counts it exactly once and
   asks for finalization when the task is complete.

Budgets hold here as on the synchronous path (usecases.spend.BatchSpend): before a round is
submitted its requests are reserved at the batch price against the task's max_cost_usd and the
tenant's monthly budget, as many as fit; a round that ended is settled from its answers' usage.
Rows a budget had no room for follow options.on_budget_exhausted: `lexicon` answers them when the
chunk is counted (engine lexicon-budget); `pause` pauses the task, and the collector submits
nothing more for it (it still collects what runs) until POST .../resume.

Each step is idempotent, so a duplicated run, two runs at once (if a lease ever expired) or a crash
at any point (say, between recording the answers and counting them) count nothing twice.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from reviewpulse.analysis.engines.base import Engine, EngineParts, ItemFailure
from reviewpulse.analysis.engines.llm import UNRESOLVED_DETAIL, budget_lexicon, llm_fallback
from reviewpulse.analysis.engines.registry import engine_for
from reviewpulse.analysis.llm.batch_requests import BatchApiClient, check_answer, completion_parts, request_line
from reviewpulse.analysis.llm.outcome import INVALID_ANSWER, UNAVAILABLE
from reviewpulse.analysis.llm.prompt import request_groups
from reviewpulse.analysis.sentiment import Analysis, Usage
from reviewpulse.observability import MetricUnit, failure_fields, logger, metrics
from reviewpulse.provider_batches.model import AnswerRecord, ChunkJob, RequestCounts, Round
from reviewpulse.provider_batches.repository import OPEN_SHARDS, ProviderBatchRepository
from reviewpulse.queues import FinalizeQueue, WorkMessage
from reviewpulse.settings import Settings
from reviewpulse.storage.result_files import ResultFiles
from reviewpulse.tasks.model import LlmBatchState, ProviderBatchCounts, ProviderBatchView, Task, TaskStatus
from reviewpulse.tasks.repository import TaskRepository
from reviewpulse.usecases.analyze_chunk import CountChunk, Counting, item_results, store_and_count, texts_of
from reviewpulse.usecases.spend import BatchSpend

# Provider batches per chunk: the first, then resubmissions of what is still unanswered. With 5%
# of requests failing at random, five rounds leave about 3 in 10 million requests unanswered.
MAX_ROUNDS = 5
# Longer than the collector's timeout: a lease outlives its run only if the run died.
LEASE_SECONDS = 900

# Called after a finished round's answers are recorded and before they are counted; tests pass
# one that raises, to prove that a crash there counts nothing twice.
AfterRecording = Callable[[Task, int, int], None]


@dataclass
class CollectOutcome:
    tasks: int = 0  # tasks this run held the lease of
    skipped: int = 0  # tasks another collector held
    submitted: int = 0  # provider batches created
    answers: int = 0  # answers newly recorded
    counted: int = 0  # chunks this run counted
    failed: int = 0  # tasks whose collection failed this run (tried again next run)


@dataclass(frozen=True)
class Collector:
    provider_batches: ProviderBatchRepository
    tasks: TaskRepository
    result_files: ResultFiles
    finalizer: FinalizeQueue
    api: BatchApiClient
    parts: EngineParts
    clock: Callable[[], float] = time.time
    after_recording: AfterRecording | None = None
    spend: BatchSpend | None = None  # budgets; None: no budget applies (a deployment without them)

    @property
    def settings(self) -> Settings:
        return self.parts.settings

    def run(self, *, deadline: float | None = None, owner: str | None = None) -> CollectOutcome:
        """One pass over every task with waiting chunks; no new task is taken past `deadline`
        (time.monotonic() seconds)."""
        outcome = CollectOutcome()
        me = owner or secrets.token_hex(8)
        for shard in range(OPEN_SHARDS):
            for tenant, task_id in self.provider_batches.open_tasks(f"s{shard}"):
                if deadline is not None and time.monotonic() > deadline:
                    return outcome
                if not self.provider_batches.lease(tenant, task_id, owner=me, now=self.clock(), seconds=LEASE_SECONDS):
                    outcome.skipped += 1
                    continue
                outcome.tasks += 1
                closed = False
                try:
                    closed = self._collect_task(tenant, task_id, outcome, deadline)
                except Exception as exc:
                    # One task's failure (the provider down, a refused file) must not hold back the
                    # others: it is tried again next run, and a task that never moves again is ended
                    # by the sweeper as stalled (this run does not touch its updated_at).
                    outcome.failed += 1
                    logger.error(
                        "Batch API task not collected",
                        extra={"tenant": tenant, "task_id": task_id, **failure_fields(exc)},
                    )
                finally:
                    self.provider_batches.release(tenant, task_id, owner=me, closed=closed)
        metrics.add_metric(name="BatchApiChunksCounted", unit=MetricUnit.Count, value=outcome.counted)
        metrics.add_metric(name="BatchApiBatchesSubmitted", unit=MetricUnit.Count, value=outcome.submitted)
        metrics.add_metric(name="BatchApiTasksFailed", unit=MetricUnit.Count, value=outcome.failed)
        return outcome

    # -- one task ------------------------------------------------------------------------------

    def _collect_task(self, tenant: str, task_id: str, outcome: CollectOutcome, deadline: float | None) -> bool:
        """True when nothing of the task waits any more (it can leave the collector's index)."""
        task = self.tasks.get(tenant, task_id)
        jobs = self.provider_batches.chunks(tenant, task_id)
        if task is None or task.status.is_terminal:
            # Cancelled, purged, failed or already finished: stop paying for what still runs, and
            # settle what its batches answered before they stopped (the rest of their reservation
            # is released). The task leaves the collector once every batch has ended.
            waiting = False
            for job in jobs:
                for number, round_ in job.ordered_rounds():
                    if round_.collected:
                        continue
                    if not round_.finished and round_.status != "cancelling":
                        self.api.cancel(round_.batch_id)
                    self._collect_round(tenant, task_id, job, number, round_, task)
                    waiting = waiting or not round_.collected
            if not waiting:
                logger.info("Batch API task closed", extra={"tenant": tenant, "task_id": task_id})
            return not waiting
        engine = engine_for(task.options, self.parts)
        for job in jobs:
            if deadline is not None and time.monotonic() > deadline:
                break  # the rest of the task's chunks at the next run
            if not job.counted:
                self._collect_chunk(task, engine, job, outcome)
        self.tasks.record_llm_batch(tenant, task_id, _state_of(jobs))
        return task.chunk_count is not None and len(jobs) == task.chunk_count and all(job.counted for job in jobs)

    # -- one chunk -----------------------------------------------------------------------------

    def _collect_chunk(self, task: Task, engine: Engine, job: ChunkJob, outcome: CollectOutcome) -> None:
        message = WorkMessage.model_validate_json(
            self.result_files.read_waiting_chunk(task.tenant, task.task_id, job.chunk)
        )
        texts = texts_of(message)
        plan = engine.before_batch_api(task.tenant, texts, task.options)
        for number, round_ in job.ordered_rounds():
            if not round_.collected:
                outcome.answers += self._collect_round(task.tenant, task.task_id, job, number, round_, task)
        if not all(round_.collected for round_ in job.rounds.values()):
            return  # still running at the provider
        answers = self.provider_batches.answers(task.tenant, task.task_id, job.chunk)
        answered, usage, seen = _answered(job, answers, texts, task)
        refused = self._refused_rows(task, job)
        missing = [row for row in plan.to_ask if row not in answered and row not in refused]
        if missing and job.next_round < MAX_ROUNDS:
            if task.status is TaskStatus.PAUSED:
                return  # a budget paused the task: nothing more is sent until it is resumed
            submitted = self._submit(task, job, {row: plan.to_ask[row] for row in missing})
            outcome.submitted += submitted
            if submitted or not self._all_refused(task, job, missing):
                return
        refused = self._refused_rows(task, job)
        given_up = {row: plan.to_ask[row] for row in missing if row not in refused}
        fallback = self._fallback(task, given_up, seen)
        over_budget = self._over_budget(task, {row: plan.to_ask[row] for row in refused if row not in answered})
        results = item_results(message, {**plan.settled, **answered, **over_budget, **fallback})
        counted = store_and_count(
            CountChunk(message, results, task.correlation_id, usage),
            Counting(self.tasks, self.result_files, self.finalizer),
        )
        self.provider_batches.mark_counted(task.tenant, task.task_id, job.chunk)
        job.counted = True
        outcome.counted += int(counted.counted)
        logger.info(
            "Batch API chunk counted",
            extra={
                "tenant": task.tenant,
                "task_id": task.task_id,
                "chunk": job.chunk,
                "rounds": len(job.rounds),
                "llm_requests": usage.batch_requests,
                "given_up": len(given_up),
                "counted": counted.counted,
            },
        )

    def _collect_round(
        self, tenant: str, task_id: str, job: ChunkJob, number: int, round_: Round, task: Task | None
    ) -> int:
        """Read a round's state; once finished, record its answers and settle what they cost
        against the budgets. The count newly recorded."""
        state = self.api.state(round_.batch_id)
        round_.status = state.status
        round_.request_counts = RequestCounts(total=state.total, completed=state.completed, failed=state.failed)
        recorded = 0
        if round_.finished:
            for file_id in (state.output_file_id, state.error_file_id):
                if not file_id:
                    continue
                for line in self.api.outcomes(file_id):
                    if line.custom_id not in round_.requests:
                        continue  # not a request of this round: never trust an unknown id
                    content, finish, input_tokens, output_tokens = completion_parts(line.body)
                    answer = AnswerRecord(
                        custom_id=line.custom_id,
                        status_code=line.status_code,
                        content=content if line.status_code == 200 else None,
                        finish_reason=finish if line.status_code == 200 else None,
                        input_tokens=input_tokens if line.status_code == 200 else 0,
                        output_tokens=output_tokens if line.status_code == 200 else 0,
                        error_code=line.error_code,
                    )
                    recorded += int(self.provider_batches.record_answer(tenant, task_id, job.chunk, answer))
            if self.after_recording is not None and task is not None:
                self.after_recording(task, job.chunk, number)
            if self.spend is not None:
                # Once per round (a conditional write with the budgets' counters), from the answers
                # recorded, not from this run's reading: a run after a crash settles the same.
                self.spend.settle_round(
                    tenant,
                    task_id,
                    job.chunk,
                    number,
                    job.reservations.get(str(number)),
                    self.provider_batches.answers(tenant, task_id, job.chunk),
                    task_exists=task is not None,
                )
            round_.collected = True
        self.provider_batches.update_round(tenant, task_id, job.chunk, number, round_)
        return recorded

    def _submit(self, task: Task, job: ChunkJob, texts: dict[int, str]) -> int:
        """Send these rows as the chunk's next round, as many of them as the budgets have room for;
        1 if this run's batch became that round."""
        number = job.next_round
        # Each round halves the texts per request: a text that spoils its request's answer is
        # soon asked alone, as the synchronous engine halves a request it cannot get answered.
        size = max(1, self.settings.llm_items_per_request >> number)
        requests = {f"c{job.chunk}-r{number}-g{n}": list(group) for n, group in enumerate(request_groups(texts, size))}
        if self.spend is not None:
            # With on_budget_exhausted lexicon the rows refused are kept with the reservation (the
            # lexicon answers them); with pause they are asked again once the task is resumed.
            keep = task.options.on_budget_exhausted != "pause"
            plan = self.spend.reserve_round(task, job.chunk, number, requests, texts, keep_refused=keep)
            if plan.reservation is None:
                return 0  # the round is another collector's, or the room kept moving: next run
            if plan.exhausted is not None:
                self._budget_ran_out(task, plan.exhausted, plan.reservation.refused_micros)
            if not plan.reservation.requests:
                return 0
            job.reservations[str(number)] = plan.reservation
            requests = plan.reservation.requests
        lines = [
            request_line(custom_id, self.settings.llm_model, [texts[row] for row in rows], task.options)
            for custom_id, rows in requests.items()
        ]
        metadata = {"task_id": task.task_id, "chunk": str(job.chunk), "round": str(number)}
        batch_id, input_file_id = self.api.submit(lines, metadata)
        round_ = Round(batch_id=batch_id, input_file_id=input_file_id, requests=requests)
        if not self.provider_batches.add_round(task.tenant, task.task_id, job.chunk, number, round_):
            # Another collector submitted this round meanwhile: ours would be paid for twice.
            self.api.cancel(batch_id)
            return 0
        job.rounds[str(number)] = round_
        logger.info(
            "Batch API round submitted",
            extra={"task_id": task.task_id, "chunk": job.chunk, "round": number, "requests": len(requests)},
        )
        return 1

    def _budget_ran_out(self, task: Task, budget: str | None, needed_micros: int) -> None:
        """A round was cut by a budget: with on_budget_exhausted pause, the task pauses (its rows
        left wait for the resume); with lexicon, they are answered by it when the chunk counts."""
        if task.options.on_budget_exhausted != "pause" or task.status is TaskStatus.PAUSED:
            return
        reason = f"{budget or 'a budget'} has no room left for more LLM requests"
        paused = self.tasks.mark_paused(task.tenant, task.task_id, reason, needed_micros=needed_micros)
        if paused is not None:
            task.status = TaskStatus.PAUSED
            metrics.add_metric(name="TasksPaused", unit=MetricUnit.Count, value=1)
            logger.warning("task paused: budget exhausted", extra={"tenant": task.tenant, "task_id": task.task_id})

    def _all_refused(self, task: Task, job: ChunkJob, missing: list[int]) -> bool:
        """Every row left was refused by a budget and the task answers such rows with the lexicon:
        the chunk can be counted now."""
        refused = self._refused_rows(task, job)
        return bool(refused) and all(row in refused for row in missing)

    @staticmethod
    def _refused_rows(task: Task, job: ChunkJob) -> set[int]:
        """Rows a budget had no room for that the lexicon answers (on_budget_exhausted lexicon)."""
        return job.budget_rows if task.options.on_budget_exhausted != "pause" else set()

    def _over_budget(self, task: Task, texts: dict[int, str]) -> dict:
        """Rows a budget had no room for (on_budget_exhausted lexicon): the lexicon, lexicon-budget."""
        if not texts:
            return {}
        return budget_lexicon(self.parts).answer(task.tenant, texts, task.options).answers

    def _fallback(self, task: Task, texts: dict[int, str], seen: set[int]) -> dict:
        """Rows still unanswered after MAX_ROUNDS: the deployment's fallback policy."""
        if not texts:
            return {}
        fallback = llm_fallback(self.parts)
        if fallback is not None:
            return fallback.answer(task.tenant, texts, task.options).answers
        answers = {}
        for row in texts:
            code = INVALID_ANSWER if row in seen else UNAVAILABLE
            answers[row] = ItemFailure(code, UNRESOLVED_DETAIL[code])
        return answers


def _answered(
    job: ChunkJob, answers: list[AnswerRecord], texts: dict[int, str], task: Task
) -> tuple[dict[int, Analysis], Usage, set[int]]:
    """Rows answered by the recorded answers (the earliest round's answer wins), what the answers
    cost (each billed answer once), and the rows that got an answer at all, valid or not."""
    by_id = {answer.custom_id: answer for answer in answers}
    answered: dict[int, Analysis] = {}
    seen: set[int] = set()
    usage = Usage()
    for _, round_ in job.ordered_rounds():
        for custom_id, rows in round_.requests.items():
            answer = by_id.get(custom_id)
            if answer is None or not answer.billed:
                continue
            usage.add(
                Usage(
                    requests=1,
                    input_tokens=answer.input_tokens,
                    output_tokens=answer.output_tokens,
                    batch_requests=1,
                    batch_input_tokens=answer.input_tokens,
                    batch_output_tokens=answer.output_tokens,
                )
            )
            seen.update(rows)
            checked = check_answer(answer.content, answer.finish_reason, [texts[row] for row in rows], task.options)
            for position, analysis in checked.by_position.items():
                answered.setdefault(rows[position], analysis)
    return answered, usage, seen


def _state_of(jobs: list[ChunkJob]) -> LlmBatchState:
    batches = [
        ProviderBatchView(
            id=round_.batch_id,
            chunk=job.chunk,
            round=number,
            status=round_.status,
            request_counts=ProviderBatchCounts(**round_.request_counts.model_dump()),
        )
        for job in jobs
        for number, round_ in job.ordered_rounds()
    ]
    counted = sum(1 for job in jobs if job.counted)
    return LlmBatchState(chunks_waiting=len(jobs) - counted, chunks_counted=counted, batches=batches)
