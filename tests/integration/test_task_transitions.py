"""The repository makes exactly the moves `tasks.model.TRANSITIONS` allows: every move, tried on a
task stored in every status on template.yaml's table under moto, succeeds only where the table has
that (move, status), and leaves the status the table names (tests/unit/test_task_transitions.py
holds the table itself to its specification)."""

from __future__ import annotations

from collections.abc import Callable

import boto3
from reviewpulse.results.summaries import Summary
from reviewpulse.tasks.model import LlmBatchState, Move, Quote, Task, TaskError, TaskStatus, TaskType, transition
from reviewpulse.tasks.repository import TaskRepository

ERROR = TaskError(code="stalled", detail="x")
QUOTE = Quote(items=1, llm_items=0, requests=0, input_tokens=0, output_tokens=0, estimated_cost_usd=0.0)
SUMMARY = Summary.model_validate({"counts": {}, "percentages": {}, "mean_score": None})

# Each move as the use cases make it: True if the repository made it.
MAKE: dict[Move, Callable[[TaskRepository, Task], object]] = {
    Move.CLAIM_SOURCE: lambda r, t: r.claim_source(t, source_key="uploads/k", source_etag="e", correlation_id=None),
    Move.RECORD_SPLIT: lambda r, t: r.record_split(
        t.tenant, t.task_id, total=1, chunk_count=1, text_field="t", columns=["t"]
    ),
    Move.HAND_ON_SPLIT: lambda r, t: r.hand_on_split(t.tenant, t.task_id, seen=None, next_chunk=1),
    Move.QUOTE: lambda r, t: r.record_quote(t.tenant, t.task_id, QUOTE),
    Move.START_QUOTED: lambda r, t: r.start_quoted(t.tenant, t.task_id),
    Move.PAUSE: lambda r, t: r.mark_paused(t.tenant, t.task_id, "a budget ran out"),
    Move.RAISE_BUDGET: lambda r, t: r.spend.raise_limit(t.tenant, t.task_id, 5.0),
    Move.RESUME: lambda r, t: r.resume_paused(t.tenant, t.task_id),
    Move.COUNT_CHUNK: lambda r, t: r.record_chunk(t.tenant, t.task_id, chunk=0, attempt="a", processed=1, failed=0),
    Move.CHOOSE_BATCH_MODE: lambda r, t: r.batch_api.choose_batch_mode(t.tenant, t.task_id, note="large"),
    Move.RECORD_LLM_BATCH: lambda r, t: r.batch_api.record(t.tenant, t.task_id, LlmBatchState()),
    Move.FINISH: lambda r, t: r.mark_ready(t.tenant, t.task_id, summary=SUMMARY, results_key="r", results_csv_key="c"),
    Move.FAIL: lambda r, t: r.mark_error(t.tenant, t.task_id, ERROR),
    Move.CANCEL: lambda r, t: r.mark_cancelled(t.tenant, t.task_id),
    Move.TEACH: lambda r, t: r.teaching.begin(t.tenant, t.task_id, sample_chunks=1),
    Move.EXPIRE: lambda r, t: r.sweeps.expire(
        t.tenant, t.task_id, seen_status=t.status.value, seen_updated_at=t.updated_at.isoformat(), error=ERROR
    ),
}


def test_the_repository_makes_each_move_only_from_the_statuses_the_model_allows(stack):
    # Given the tasks table, and a record of what ended tasks the repository announced
    ended: list[str] = []
    tasks = TaskRepository(
        stack.ref("TasksTable"), boto3.client("dynamodb"), on_ended=lambda t: ended.append(t.task_id)
    )
    assert set(MAKE) == set(Move)
    wrong = []
    for move, make in MAKE.items():
        for status in TaskStatus:
            # Given a batch task stored in `status`
            task = Task.new("acme", TaskType.BATCH, status, ttl_days=1, filename="a.csv", format="csv")
            assert tasks.create(task)
            # When the move is made
            made = bool(make(tasks, task))
            after = tasks.get("acme", task.task_id).status
            # Then it is made only where the model allows it, to the status the model names;
            # and a move that ends the task is announced once, a refused one not at all
            expected = transition(move, status)
            announced = ended.count(task.task_id)
            if made != (expected is not None) or after != (expected or status):
                wrong.append((move.value, status.value, made, after.value))
            elif announced != int(made and after.is_terminal):
                wrong.append((move.value, status.value, "announced", announced))
    assert wrong == []
