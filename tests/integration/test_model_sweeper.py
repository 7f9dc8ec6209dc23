"""No model stays `training` forever: the sweeper fails one still training past its deadline with
`training-stalled` (and only such), and a batch taught first from it then has its rest read
without it, ready with the `teach-failed` warning, not left running."""

from __future__ import annotations

from datetime import timedelta

import boto3
from reviewpulse.clock import now
from reviewpulse.tenant_models.model import ModelSource, ModelStatus, TenantModel
from reviewpulse.tenant_models.repository import ModelRepository
from reviewpulse.usecases.sweep import TRAINING_STALLED, sweep_models

from tests.conftest import load_event
from tests.integration import test_llm_pipeline
from tests.integration.helpers import results_of, upload
from tests.integration.test_llm_pipeline import lines
from tests.integration.test_teach import SAMPLE, TEXTS, N

fake, configure, llm = test_llm_pipeline.fake, test_llm_pipeline.configure, test_llm_pipeline.llm
DEADLINE = timedelta(minutes=150)


def _models(stack) -> ModelRepository:
    return ModelRepository(stack.ref("ModelsTable"), boto3.client("dynamodb"))


def test_a_model_training_past_the_deadline_fails_and_no_other_does(stack):
    # Given a model in training and one that finished, both asked for now
    models = _models(stack)
    training = TenantModel.new("acme", ModelSource(task_id="t" * 28, label_field="l"), name=None, correlation_id=None)
    done = TenantModel.new("acme", ModelSource(task_id="u" * 28, label_field="l"), name=None, correlation_id=None)
    models.add(training)
    models.add(done)
    assert models.mark_ready("acme", done.model_id, version="v1", card={}, counts={})

    # When the sweeper runs before the deadline, Then nothing is ended
    assert sweep_models(models, now=now() + DEADLINE - timedelta(minutes=1), deadline=DEADLINE) == []

    # When it runs past the deadline, Then only the model still training fails, with a stable code
    assert sweep_models(models, now=now() + DEADLINE + timedelta(minutes=1), deadline=DEADLINE) == [
        ("acme", training.model_id)
    ]
    swept = models.get("acme", training.model_id)
    assert swept.status is ModelStatus.FAILED and swept.error.code == TRAINING_STALLED
    assert models.get("acme", done.model_id).status is ModelStatus.READY
    # And it leaves the sweeper's index: a later sweep finds nothing
    assert sweep_models(models, now=now() + 2 * DEADLINE, deadline=DEADLINE) == []


class LostQueue:
    """A training queue whose message never arrives (the finalizer died before sending it)."""

    def request(self, request, correlation_id) -> None:
        return None


def test_a_taught_batch_whose_model_never_trains_is_finished_without_it(client, poller, runner, stack, llm):
    # Given a batch on auto teaching from 200 of its 300 items, whose training request is lost
    finalize = runner.module("FinalizeFunction")
    finalize.training_queue = LostQueue
    task_id = upload(client, "reviews.txt", lines(TEXTS), options={"engine": "auto", "teach": {"sample": SAMPLE}})
    poller.drain()
    waiting = client.call("GET", f"/v1/tasks/{task_id}").json()
    model_id = waiting["teach_model_id"]
    # (the sample is counted and the task waits for a model that stays training)
    assert waiting["status"] == "processing" and waiting["progress"]["processed"] == SAMPLE
    assert client.call("GET", f"/v1/models/{model_id}").json()["status"] == "training"

    # When the sweeper function runs (its scheduled event) past the training deadline
    sweeper = runner.module("SweeperFunction")
    sweeper.now = lambda: now() + DEADLINE + timedelta(minutes=5)
    outcome = runner.invoke("SweeperFunction", load_event("sweeper.json"))
    poller.drain()

    # Then the model failed as stalled, and the task is ready, every row counted once, its rest
    # read without the model, with a teach-failed warning naming why
    assert outcome["models_failed"] == 1
    model = client.call("GET", f"/v1/models/{model_id}").json()
    assert model["status"] == "failed" and model["error"]["code"] == TRAINING_STALLED
    task = client.call("GET", f"/v1/tasks/{task_id}").json()
    assert task["status"] == "ready", task.get("error")
    assert task["progress"] == {"total": N, "processed": N, "failed": 0}
    assert [r["row"] for r in results_of(client, task_id)] == list(range(1, N + 1))
    [warning] = [w for w in task["warnings"] if w["code"] == "teach-failed"]
    assert TRAINING_STALLED in warning["detail"]
