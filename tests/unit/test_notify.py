"""Which writes of the tasks table's stream announce a task's end (the outbox's filter in code)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from reviewpulse.usecases.notify import ended_task, event_id, task_ended_event

SAMPLE = json.loads((Path(__file__).resolve().parents[2] / "events" / "publish_task_events.json").read_text())
IMAGE = SAMPLE["Records"][0]["dynamodb"]["NewImage"]


def image(status: str | None) -> dict | None:
    if status is None:
        return None
    changed = copy.deepcopy(IMAGE)
    changed["status"] = {"S": status}
    return changed


@pytest.mark.parametrize(
    ("old", "new", "announced"),
    [
        ("processing", "ready", True),
        ("queued", "error", True),
        ("accepted", "cancelled", True),
        ("paused", "error", True),
        (None, "error", True),  # a task written in a terminal status at once
        ("processing", "processing", False),
        ("queued", "processing", False),
        ("ready", "ready", False),  # a later write to a task already ended
        ("processing", None, False),  # deleted (purge, TTL)
    ],
)
def test_only_the_write_that_ends_a_task_announces_it(old, new, announced):
    # Given a stream record's old and new images
    # When the outbox reads it
    task = ended_task(image(old), image(new))
    # Then only a move into a terminal status gives the task to announce, as the new image has it
    assert (task is not None) == announced
    if task is not None:
        assert task.status.value == new and task.task_id == IMAGE["task_id"]["S"]


def test_the_event_id_is_the_task_and_its_end_so_a_redelivery_has_the_same_one():
    # Given the same ended task read from two deliveries of its record, and its other possible end
    first, second = ended_task(image("processing"), image("ready")), ended_task(image("processing"), image("ready"))
    failed = ended_task(image("processing"), image("error"))
    # Then both deliveries carry one event id, and another end another one
    assert event_id(first) == event_id(second) == task_ended_event(first)[1]["event_id"]
    assert event_id(failed) != event_id(first)
