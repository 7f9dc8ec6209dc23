"""The sweeper ends tasks that would otherwise run forever, and only those."""

from __future__ import annotations

from datetime import timedelta

from reviewpulse.clock import now
from reviewpulse.usecases.sweep import sweep
from reviewpulse.wiring import task_repository

UPLOAD, STALL = timedelta(minutes=60), timedelta(minutes=30)


def test_abandoned_and_stalled_tasks_end_and_others_are_left_alone(client, poller, stack):
    # Given a batch whose file never came, a text task stuck on the queue, and a finished task
    abandoned = client.call("POST", "/v1/batches", {"filename": "never.csv"}).json()["task"]["task_id"]
    finished = client.call("POST", "/v1/tasks", {"text": "Lovely"}).json()["task_id"]
    poller.drain()
    stuck = client.call("POST", "/v1/tasks", {"text": "Queued forever"}).json()["task_id"]

    # When the sweeper runs now, nothing has passed a deadline yet
    assert sweep(task_repository(), now=now(), upload_deadline=UPLOAD, stall_deadline=STALL).ended == []

    # And when it runs 45 minutes later, only the stuck task has passed its deadline
    later = sweep(task_repository(), now=now() + timedelta(minutes=45), upload_deadline=UPLOAD, stall_deadline=STALL)
    assert later.ended == [("acme", stuck, "stalled")]

    # And two hours later the abandoned batch has too; the finished task is never even examined
    final = sweep(task_repository(), now=now() + timedelta(hours=2), upload_deadline=UPLOAD, stall_deadline=STALL)
    assert final.ended == [("acme", abandoned, "upload-expired")] and final.examined == 1
    states = {t: client.call("GET", f"/v1/tasks/{t}").json() for t in (abandoned, stuck, finished)}
    assert states[abandoned]["error"]["code"] == "upload-expired" and states[abandoned]["status"] == "error"
    assert states[stuck]["error"]["code"] == "stalled"
    assert states[finished]["status"] == "ready"


def test_a_task_that_moves_while_being_swept_is_not_ended(client, stack):
    task_id = client.call("POST", "/v1/tasks", {"text": "Racing"}).json()["task_id"]
    tasks = task_repository()
    seen = tasks.get("acme", task_id)
    # Progress lands between the sweeper's read and its write
    tasks.record_chunk("acme", task_id, chunk=0, attempt="a1", processed=1, failed=0)
    from reviewpulse.tasks.model import TaskError

    assert not tasks.sweeps.expire(
        "acme",
        task_id,
        seen_status=seen.status.value,
        seen_updated_at=seen.updated_at.isoformat(),
        error=TaskError(code="stalled", detail="x"),
    )
    assert tasks.get("acme", task_id).status.value == "processing"
