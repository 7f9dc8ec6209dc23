"""Drop delivery's decisions as a table (usecases/deliver_drop.py): for each event, which objects
a drop gets in outgoing/ and which it does not. The keys are the ones docs/integrations.md promises,
written out here; the bucket is a recording double of ResultFiles."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from reviewpulse.results.summaries import ConversationsSummary, Summary
from reviewpulse.storage.layout import parse_source_key
from reviewpulse.tasks.model import Task, TaskError, TaskStatus, TaskType
from reviewpulse.usecases import deliver_drop
from reviewpulse.usecases.deliver_drop import DropRefused

NOW = datetime(2026, 12, 6, tzinfo=UTC)
DROP_KEY = "incoming/acme/shop/may.csv"
OUT = "outgoing/acme/shop/may.csv"


class RecordingFiles:
    """ResultFiles as the use case sees it: what was copied, written and deleted, and by which task."""

    def __init__(self, *, failing: bool = False) -> None:
        self.written: dict[str, str | None] = {}  # key → the task that wrote it
        self.bodies: dict[str, dict] = {}
        self.copies: list[tuple[str, str]] = []
        self.failing = failing

    def copy(self, source_key: str, target_key: str, *, task_id: str, content_type: str | None = None) -> None:
        self.copies.append((source_key, target_key))
        self.written[target_key] = task_id

    def put_json(self, key: str, body: bytes, *, task_id: str | None) -> None:
        if self.failing:
            raise ConnectionError("S3 refused")
        self.written[key] = task_id
        self.bodies[key] = json.loads(body)

    def delete_if_written_by(self, key: str, task_id: str) -> bool:
        if key in self.written and self.written[key] == task_id:
            del self.written[key]
            return True
        return False


def task(
    status: TaskStatus,
    *,
    type: TaskType = TaskType.DROP,
    source_key: str | None = DROP_KEY,
    error: TaskError | None = None,
    task_id: str = "d" * 28,
) -> Task:
    return Task(
        tenant="acme",
        task_id=task_id,
        type=type,
        status=status,
        created_at=NOW,
        updated_at=NOW,
        source_key=source_key,
        error=error,
    )


FAILED = TaskError(code="empty-file", detail="the file holds no rows")


# event "task ended": (task, the receipt written or None, its code)
@pytest.mark.parametrize(
    ("ended", "receipt", "code"),
    [
        (task(TaskStatus.READY), f"{OUT}.done.json", None),
        (task(TaskStatus.ERROR, error=FAILED), f"{OUT}.error.json", "empty-file"),
        (task(TaskStatus.CANCELLED), f"{OUT}.error.json", "cancelled"),
        (task(TaskStatus.PROCESSING), None, None),  # not ended: nothing to say yet
        (task(TaskStatus.READY, type=TaskType.BATCH, source_key="uploads/acme/x/f.csv"), None, None),
        (task(TaskStatus.READY, type=TaskType.TEXT, source_key=None), None, None),
        (task(TaskStatus.ERROR, error=FAILED, source_key="incoming/acme/../x.csv"), None, None),  # refused instead
    ],
    ids=["ready", "error", "cancelled", "running", "batch", "text", "unclean-path"],
)
def test_a_task_that_ended_gets_the_receipt_of_its_end(ended: Task, receipt: str | None, code: str | None) -> None:
    # Given a task that reached `status`; When its end is announced
    files = RecordingFiles()
    wrote = deliver_drop.task_ended(ended, files)
    # Then a drop's task gets exactly its one receipt, naming it; other tasks get nothing
    assert wrote is (receipt is not None)
    assert list(files.written) == ([receipt] if receipt else [])
    if receipt:
        body = files.bodies[receipt]
        assert (body["task_id"], body["source"], body["status"]) == (ended.task_id, DROP_KEY, ended.status.value)
        assert body.get("code") == code


@pytest.mark.parametrize("conversations", [False, True])
def test_a_ready_drop_gets_its_copies_and_its_receipt_lists_exactly_them(conversations: bool) -> None:
    # Given a drop's task whose results are written
    ready = task(TaskStatus.READY)
    files = RecordingFiles()
    # When its results are ready
    made = deliver_drop.results_ready(ready, files, conversations=conversations)
    # Then every file the docs promise is copied beside the drop's path, from the task's own results
    expected = [f"{OUT}.results.jsonl", f"{OUT}.results.csv"]
    expected += [f"{OUT}.conversations.jsonl"] if conversations else []
    expected += [f"{OUT}.insights.json", f"{OUT}.report.html"]
    assert [target for _, target in files.copies] == expected and made == len(expected)
    assert all(source.startswith("results/acme/" + ready.task_id + "/") for source, _ in files.copies)
    # And when its end is won, the receipt lists the same files, relative to outgoing/acme/
    chats = ConversationsSummary(conversations=1, labels={}, directions={}) if conversations else None
    summary = Summary(counts={}, percentages={}, mean_score=None, conversations=chats)
    deliver_drop.task_ended(ready.model_copy(update={"summary": summary}), files)
    listed = files.bodies[f"{OUT}.done.json"]["files"]
    assert ["outgoing/acme/" + name for name in listed] == expected


@pytest.mark.parametrize(
    "other",
    [
        task(TaskStatus.READY, type=TaskType.BATCH, source_key="uploads/acme/x/f.csv"),
        task(TaskStatus.READY, type=TaskType.TEXT, source_key=None),
    ],
    ids=["batch", "text"],
)
def test_results_of_other_tasks_are_not_copied(other: Task) -> None:
    files = RecordingFiles()
    assert deliver_drop.results_ready(other, files, conversations=False) == 0 and files.copies == []


# event "drop refused": (dropped key, tenant valid, where its receipt goes)
@pytest.mark.parametrize(
    ("dropped", "tenant_is_valid", "where"),
    [
        ("incoming/nobody/a.csv", True, "outgoing/nobody/a.csv.error.json"),
        ("incoming/Not A Tenant/b.csv", False, "outgoing/_refused/"),
        ("incoming/acme/../b.csv", True, "outgoing/_refused/"),  # unclean path: never beside it
        ("incoming/acme/" + "x" * 1100 + ".csv", True, None),  # no key can hold its receipt
    ],
    ids=["unknown-tenant", "invalid-tenant", "invalid-path", "key-too-long"],
)
def test_a_refused_drop_gets_an_error_receipt_without_a_task(dropped: str, tenant_is_valid: bool, where) -> None:
    files = RecordingFiles()
    source = parse_source_key(dropped)
    wrote = deliver_drop.drop_refused(DropRefused(source, "unknown-tenant", "no such tenant", tenant_is_valid), files)
    assert wrote is (where is not None)
    if where is None:
        assert files.written == {}
        return
    ((key, body),) = files.bodies.items()
    assert key.startswith(where) and key.endswith(".error.json")
    assert (body["task_id"], body["status"], body["source"], body["code"]) == (
        None,
        "refused",
        dropped,
        "unknown-tenant",
    )


def test_a_receipt_s3_refuses_leaves_the_end_standing() -> None:
    # Given a bucket that refuses writes; When a drop's task ends
    # Then nothing is raised to the caller that won the end, and no receipt is claimed
    assert deliver_drop.task_ended(task(TaskStatus.ERROR, error=FAILED), RecordingFiles(failing=True)) is False


def test_purging_a_drop_removes_what_its_task_wrote_and_nothing_a_newer_drop_wrote() -> None:
    # Given an older and a newer task of the same dropped path; the newer one's results are the copies
    older, newer = task(TaskStatus.READY, task_id="o" * 28), task(TaskStatus.READY, task_id="n" * 28)
    files = RecordingFiles()
    deliver_drop.results_ready(newer, files, conversations=False)
    files.written[f"{OUT}.error.json"] = older.task_id  # an error receipt the older task left
    # When the older task is purged
    deleted = deliver_drop.task_purged(older, files)
    # Then only its own receipt went; the newer task's copies stay
    assert deleted == 1 and f"{OUT}.error.json" not in files.written
    assert all(writer == newer.task_id for writer in files.written.values()) and files.written


@pytest.mark.parametrize("conversations", [False, True])
def test_purging_a_ready_drop_removes_every_file_it_delivered_and_its_receipt(conversations: bool) -> None:
    # Given a ready drop's copies and its receipt in outgoing/
    ready = task(TaskStatus.READY)
    files = RecordingFiles()
    deliver_drop.results_ready(ready, files, conversations=conversations)
    deliver_drop.task_ended(ready, files)
    assert len(files.written) == len(files.copies) + 1
    # When it is purged
    deleted = deliver_drop.task_purged(ready, files)
    # Then nothing it wrote is left in outgoing/ (its insights and report copies included)
    assert files.written == {} and deleted == len(files.copies) + 1
