"""The load report's backlog (tools/reviewpulse_tools/bench/load_backlog.py): each queue's depth
per sample after the load, the workers' invocations between samples, and when the last task
ended, from what the sampler and the checks saw."""

from __future__ import annotations

from datetime import UTC, datetime

from reviewpulse_tools.bench.load_backlog import Sample, last_ended, short_name, table
from reviewpulse_tools.local.lambda_ import Invocation

STOPPED = 1_800_000_000.0  # when the load stopped, wall clock


def _invocation(function: str, after: float) -> Invocation:
    return Invocation(function, 1, STOPPED + after, 100.0, 0.0, False, "ok")


def test_the_table_shows_each_backlogged_queue_and_the_work_done_between_samples():
    # Given a finalize queue that drains over three samples, a webhook queue that stayed empty,
    # and finalizer invocations in the two intervals
    samples = [
        Sample(0.0, {"FinalizeQueue": (40, 3, 0), "WebhookQueue": (0, 0, 0)}, 1.5, None),
        Sample(15.0, {"FinalizeQueue": (12, 3, 2), "WebhookQueue": (0, 0, 0)}, 1.2, 0.8),
        Sample(30.0, {"FinalizeQueue": (0, 0, 0), "WebhookQueue": (0, 0, 0)}, 0.9, 0.4),
    ]
    records = [_invocation("FinalizeFunction", t) for t in (1, 2, 3, 16)] + [_invocation("GetTaskFunction", 5)]

    # When the report's table is written
    lines = table(samples, records, STOPPED).splitlines()

    # Then the queue that held messages is a column and the empty one is not
    header = lines[1]
    assert "FinalizeQueue" in header and "Webhook" not in header
    # and each row holds its depth (waiting+in flight, +delayed when some are) and the invocations
    # started since the row before (none for the first), with the cores and load average
    first, second, third = (line.split() for line in lines[2:5])
    assert first[:2] == ["0", "40+3"] and first[2] == "-"
    assert second[:3] == ["15", "12+3+2", "3"] and second[-2:] == ["0.80", "1.2"]
    assert third[:3] == ["30", "0+0", "1"]
    # and only the worker functions are counted (no status polls)
    assert "GetTask" not in header


def test_the_last_task_end_is_its_updated_at_after_the_load():
    # Given two tasks the checks saw end, 12 s and 47 s after the load stopped
    final = {
        task: {"status": "ready", "updated_at": datetime.fromtimestamp(STOPPED + after, UTC).isoformat()}
        for task, after in (("a", 12), ("b", 47))
    }

    # When the report says when the last ended, Then it is the later one
    assert last_ended(final, STOPPED) == "the last of 2 tasks ended 47 s after the load stopped"
    assert last_ended({}, STOPPED) == "no task ended"


def test_a_queue_is_named_by_its_logical_id():
    assert short_name("http://127.0.0.1:5005/123456789012/reviewpulse-local-FinalizeQueue") == "FinalizeQueue"
