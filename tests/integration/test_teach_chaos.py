"""A batch taught first (options.teach on auto) under at-least-once delivery taken literally: every
message is handed to its function twice, the trainer dies once right after its model is ready
(before it asks for the rest), and the splitter dies once after recording the rest (before any of
its chunks is sent). Every row still comes back exactly once, read through the taught model; and
a model that cannot be taught leaves the rest read without it, with the `teach-failed` warning."""

from __future__ import annotations

from typing import Any

import boto3
from reviewpulse.analysis.teach import sample_rows
from reviewpulse.usecases.split import Splitter
from reviewpulse_tools.bench.chaos import Crash, TwiceDeliveringPoller

from tests.integration import test_llm_pipeline
from tests.integration.helpers import results_of, upload
from tests.integration.test_llm_pipeline import lines
from tests.integration.test_teach import SAMPLE, TEXTS, N

fake, configure, llm = test_llm_pipeline.fake, test_llm_pipeline.configure, test_llm_pipeline.llm


class CrashOnce:
    """Wraps a collaborator: the first call of `method` that `when` accepts dies (a Crash, as a
    killed process), the others go through."""

    def __init__(self, real: Any, method: str, when=lambda *args, **kwargs: True) -> None:
        self.real, self.method, self.when, self.crashed = real, method, when, 0

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.real, name)
        if name != self.method:
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            if not self.crashed and self.when(*args, **kwargs):
                self.crashed += 1
                raise Crash(name)
            return attribute(*args, **kwargs)

        return call


def _rest_chunks(messages, *args, **kwargs) -> bool:
    # The sample's items carry teach; the rest's none. (Materialised: the generator is read once.)
    return any(item.teach is None for message in messages for item in message.items)


def test_every_row_is_counted_once_when_deliveries_repeat_and_teaching_steps_crash(client, runner, stack, llm):
    # Given a batch on auto teaching from 200 of its 300 items, and a world where every message
    # comes twice, the trainer dies after its model is ready and the splitter after recording the rest
    trainer = runner.module("TrainModelFunction")
    real_ingest = trainer.ingest_queue
    crashing_rest = CrashOnce(real_ingest(), "request_split")
    trainer.ingest_queue = lambda: crashing_rest
    split = runner.module("SplitFunction")
    real_splitter = split.splitter
    sent: list = []

    def crashing_splitter() -> Splitter:
        real = real_splitter()

        def send(messages, *args, **kwargs):
            messages = list(messages)
            if _rest_chunks(messages) and not sent:
                sent.append("crashed")
                raise Crash("after recording the rest")
            return real.queue.send(messages, *args, **kwargs)

        queue = type("Queue", (), {"send": staticmethod(send)})()
        return Splitter(real.tasks, real.input_files, queue, real.finalizer, real.settings, real.drops)

    split.splitter = crashing_splitter
    task_id = upload(client, "reviews.txt", lines(TEXTS), options={"engine": "auto", "teach": {"sample": SAMPLE}})

    # When the pipeline runs, every batch handed over twice
    poller = TwiceDeliveringPoller(runner, boto3.client("sqs"))
    poller.drain(max_rounds=2000)

    # Then both crashes happened, and each failed delivery was redelivered
    assert crashing_rest.crashed == 1 and sent == ["crashed"]
    assert poller.failures > 0 and poller.redelivery_ratio() == 1.0
    # And the task is ready, every row counted and returned exactly once
    task = client.call("GET", f"/v1/tasks/{task_id}").json()
    assert task["status"] == "ready", task.get("error")
    assert task["progress"] == {"total": N, "processed": N, "failed": 0}
    results = results_of(client, task_id)
    assert [r["row"] for r in results] == list(range(1, N + 1))
    assert sum(task["answered_by"].values()) == N
    # And the sample was answered by the LLM, the rest through the model the task taught
    model_id = task["teach_model_id"]
    assert client.call("GET", f"/v1/models/{model_id}").json()["status"] == "ready"
    assert task["options"]["model_id"] == model_id
    assert [w for w in task["warnings"] if w["code"] == "teach-failed"] == []
    sample = sample_rows(task_id, N, SAMPLE)
    assert {r["engine"] for r in results if r["row"] in sample} == {"llm"}
    assert "model" in {r["engine"] for r in results if r["row"] not in sample}


def test_a_model_that_cannot_be_taught_leaves_the_rest_read_without_it(client, poller, llm):
    # Given a batch on auto teaching from 200 items the LLM labels all alike (one class: no model)
    texts = [f"Order {i} arrived, I love it, wonderful and great" for i in range(N)]
    task_id = upload(client, "alike.txt", lines(texts), options={"engine": "auto", "teach": {"sample": SAMPLE}})

    # When the pipeline runs
    poller.drain()
    task = client.call("GET", f"/v1/tasks/{task_id}").json()

    # Then its model failed with a stable code, and the task is ready all the same: the rest read
    # by auto without a model, at the deployment's threshold, and a teach-failed warning naming why
    model = client.call("GET", f"/v1/models/{task['teach_model_id']}").json()
    assert model["status"] == "failed"
    assert task["status"] == "ready", task.get("error")
    assert task["progress"] == {"total": N, "processed": N, "failed": 0}
    assert task["options"]["model_id"] is None and task["options"]["min_confidence"] is not None
    [warning] = [w for w in task["warnings"] if w["code"] == "teach-failed"]
    assert model["error"]["code"] in warning["detail"]
    results = results_of(client, task_id)
    assert [r["row"] for r in results] == list(range(1, N + 1))
    assert "model" not in {r["engine"] for r in results}
