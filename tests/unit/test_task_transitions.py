"""The rules about a task's states, as a table: which move each status allows, and to what.

The model's `TRANSITIONS` is the one place these rules are written (the repository reads its
conditions from it; tests/integration/test_task_transitions.py holds the repository to it). This
table is the specification it is checked against, row by row: a status that is not in a move's
row refuses the move."""

from __future__ import annotations

import pytest
from reviewpulse.tasks.model import TRANSITIONS, Move, TaskStatus, is_watched, sources, transition

A, Q, P = TaskStatus.ACCEPTED, TaskStatus.QUEUED, TaskStatus.PROCESSING
QT, PS = TaskStatus.QUOTED, TaskStatus.PAUSED
R, E, C = TaskStatus.READY, TaskStatus.ERROR, TaskStatus.CANCELLED

# move → {status it is made from: the status it leaves}
SPECIFICATION: dict[Move, dict[TaskStatus, TaskStatus]] = {
    Move.CLAIM_SOURCE: {A: Q, Q: Q, P: P},
    Move.RECORD_SPLIT: {Q: Q, P: P},
    Move.HAND_ON_SPLIT: {Q: Q, P: P, PS: PS},
    Move.QUOTE: {Q: QT},
    Move.START_QUOTED: {QT: Q},
    Move.PAUSE: {Q: PS, P: PS},
    Move.RAISE_BUDGET: {PS: PS},
    Move.RESUME: {PS: P},
    Move.COUNT_CHUNK: {Q: P, P: P, PS: PS},
    Move.CHOOSE_BATCH_MODE: {Q: Q, P: P},
    Move.RECORD_LLM_BATCH: {Q: Q, P: P},
    Move.FINISH: {Q: R, P: R},
    Move.FAIL: {A: E, Q: E, P: E, QT: E, PS: E},
    Move.CANCEL: {A: C, Q: C, P: C, QT: C, PS: C},
    Move.EXPIRE: {A: E, Q: E, P: E},
    Move.TEACH: {Q: Q, P: P, PS: PS},
}


@pytest.mark.parametrize("status", list(TaskStatus), ids=lambda s: s.value)
@pytest.mark.parametrize("move", list(Move), ids=lambda m: m.value)
def test_each_status_allows_the_moves_of_the_table_and_no_other(move: Move, status: TaskStatus) -> None:
    # Given a task in `status`; When `move` is asked of it
    # Then it is allowed, and leads where the table says, only if the table has that row
    assert transition(move, status) == SPECIFICATION[move].get(status)


def test_the_model_has_no_move_the_table_does_not_specify() -> None:
    # Given every allowed (move, status) of the model; Then each is a row of the specification
    specified = {(move, status) for move, row in SPECIFICATION.items() for status in row}
    assert set(TRANSITIONS) == specified and set(SPECIFICATION) == set(Move)


@pytest.mark.parametrize("status", [s for s in TaskStatus if s.is_terminal], ids=lambda s: s.value)
def test_an_ended_task_allows_no_move(status: TaskStatus) -> None:
    # Given a task that has ended; Then no move is made from it
    assert [move for move in Move if transition(move, status) is not None] == []


@pytest.mark.parametrize("status", [s for s in TaskStatus if not s.is_terminal], ids=lambda s: s.value)
def test_every_running_task_can_be_ended_by_its_owner_and_by_a_failure(status: TaskStatus) -> None:
    # Given a task that has not ended; Then cancel and fail both end it (no task is left non-terminal)
    assert transition(Move.CANCEL, status).is_terminal and transition(Move.FAIL, status).is_terminal


def test_the_sweeper_watches_exactly_the_statuses_it_can_expire() -> None:
    # Given the statuses kept in the sweeper's index (waiting on a worker)
    watched = tuple(status for status in TaskStatus if is_watched(status))
    # Then those are the statuses the sweeper can end, and a waiting or ended task is not among them
    assert watched == sources(Move.EXPIRE)
    assert not {QT, PS, R, E, C} & set(watched)
