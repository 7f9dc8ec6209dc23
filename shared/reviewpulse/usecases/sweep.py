"""No task stays running forever: end those whose upload never came or whose progress stopped; and
no model stays training forever."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from reviewpulse.observability import MetricUnit, logger, metrics
from reviewpulse.queues import IngestQueue
from reviewpulse.tasks.model import TaskError, TaskStatus
from reviewpulse.tasks.repository import TaskRepository
from reviewpulse.tasks.sweeps import ACTIVE_SHARDS
from reviewpulse.tenant_models.model import ModelError
from reviewpulse.tenant_models.repository import ModelRepository


@dataclass
class SweepOutcome:
    examined: int = 0
    ended: list[tuple[str, str, str]] = field(default_factory=list)  # (tenant, task_id, code)


def sweep(
    tasks: TaskRepository, *, now: datetime, upload_deadline: timedelta, stall_deadline: timedelta
) -> SweepOutcome:
    outcome = SweepOutcome()
    older_than = (now - min(upload_deadline, stall_deadline)).isoformat()
    for shard in range(ACTIVE_SHARDS):
        for item in tasks.sweeps.stale(f"s{shard}", older_than):
            outcome.examined += 1
            age = now - datetime.fromisoformat(item["updated_at"])
            status = item["status"]
            if status == TaskStatus.ACCEPTED.value and age >= upload_deadline:
                error = TaskError(code="upload-expired", detail=f"no file arrived within {_minutes(upload_deadline)}")
            elif status in (TaskStatus.QUEUED.value, TaskStatus.PROCESSING.value) and age >= stall_deadline:
                error = TaskError(code="stalled", detail=f"no progress for {_minutes(stall_deadline)}")
            else:
                continue
            # Only if it has not moved since it was read: a chunk counted meanwhile wins.
            if tasks.sweeps.expire(
                item["tenant"], item["task_id"], seen_status=status, seen_updated_at=item["updated_at"], error=error
            ):
                outcome.ended.append((item["tenant"], item["task_id"], error.code))
                logger.warning(
                    "task ended by the sweeper",
                    extra={"tenant": item["tenant"], "task_id": item["task_id"], "code": error.code},
                )
    metrics.add_metric(name="TasksSwept", unit=MetricUnit.Count, value=len(outcome.ended))
    return outcome


def _minutes(delta: timedelta) -> str:
    return f"{int(delta.total_seconds() // 60)} minutes"


# The model code of a model the sweeper ends (reviewpulse.errors.MODEL_ERROR_CODES).
TRAINING_STALLED = "training-stalled"


def sweep_models(
    models: ModelRepository, *, now: datetime, deadline: timedelta, rest: IngestQueue | None = None
) -> list[tuple[str, str]]:
    """No model stays training forever: one still training `deadline` after it was asked for (its
    function timed out or crashed on every delivery, or its request was never queued) fails with
    `training-stalled`; a model taught first from a task's sample then lets that task's rest be
    read without it (usecases/teach_first.py). The (tenant, model_id) of each model it ended."""
    ended = []
    for model in models.training_since_before((now - deadline).isoformat()):
        detail = f"still training after {_minutes(deadline)}: its training timed out or crashed on every delivery"
        # Conditional on its still training: a model that finished meanwhile keeps its status.
        if models.mark_failed(model.tenant, model.model_id, ModelError(code=TRAINING_STALLED, detail=detail), {}):
            ended.append((model.tenant, model.model_id))
            logger.warning("model ended by the sweeper", extra={"tenant": model.tenant, "model_id": model.model_id})
            # Imported for a model it ends (rare): teach_first loads the splitter's readers and engines.
            from reviewpulse.usecases.teach_first import model_ended

            model_ended(model, rest)
    metrics.add_metric(name="ModelsSwept", unit=MetricUnit.Count, value=len(ended))
    return ended
