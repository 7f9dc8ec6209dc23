"""A model taught from the LLM (usecases/train_model.py, source.teach_sample): fitted on exactly the
teaching sample's LLM answers, its texts read again from the task's file, its card saying so."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from reviewpulse.analysis.models.artifact import ModelArtifact
from reviewpulse.analysis.models.features import HashingSpec
from reviewpulse.analysis.teach import sample_rows
from reviewpulse.settings import Settings
from reviewpulse.tasks.model import Progress, Task, TaskStatus, TaskType
from reviewpulse.tenant_models.model import ModelSource, ModelStatus, TenantModel
from reviewpulse.tenant_models.queue import TrainingRequest
from reviewpulse.usecases.train_model import Training, TrainModel, train_model

TOTAL, SAMPLE = 100, 60
CLASSES = ("negative", "neutral", "positive")


@dataclass
class Models:
    model: TenantModel
    ready: dict = field(default_factory=dict)
    failed: object = None

    def get(self, tenant, model_id):
        return self.model if (tenant, model_id) == (self.model.tenant, self.model.model_id) else None

    def mark_ready(self, tenant, model_id, **kwargs):
        self.ready = kwargs
        self.model = self.model.model_copy(update={"status": ModelStatus.READY, "card": kwargs["card"]})
        return True

    def mark_failed(self, tenant, model_id, error, counts):
        self.failed = error
        self.model = self.model.model_copy(update={"status": ModelStatus.FAILED, "error": error})


class Tasks:
    def __init__(self, task: Task) -> None:
        self.task = task

    def get(self, tenant, task_id):
        return self.task if (tenant, task_id) == (self.task.tenant, self.task.task_id) else None


class Inputs:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def open_source(self, key, etag=None):
        return io.BytesIO(self.data)


class Store:
    def __init__(self) -> None:
        self.put_artifacts = []

    def put(self, tenant, artifact):
        self.put_artifacts.append(artifact)
        return artifact.model_id

    def delete(self, tenant, model_id):
        return 0


def a_fit(seen: list):
    spec = HashingSpec(word_buckets=4, char_buckets=4)

    def fit(texts, labels):
        seen.append((list(texts), list(labels)))
        zero = __import__("array").array("f", [0.0] * spec.dimensions)
        return ModelArtifact(
            classes=CLASSES, intercept=(0.0,) * 3, weights=(zero,) * 3, spec=spec, card={"rows": len(texts)}
        )

    return fit


def setup(results):
    task = Task.new(
        "acme",
        TaskType.BATCH,
        TaskStatus.READY,
        ttl_days=1,
        format="csv",
        text_field="text",
        source_key="uploads/acme/x/in.csv",
        progress=Progress(total=TOTAL, processed=TOTAL),
    )
    data = "text\n" + "".join(f"text number {row}\n" for row in range(1, TOTAL + 1))
    model = TenantModel.new(
        "acme", ModelSource(task_id=task.task_id, teach_sample=SAMPLE), name=None, correlation_id=None
    )
    return task, Models(model), Tasks(task), Inputs(data.encode()), results


def run(task, models, tasks, inputs, results, seen, store):
    return train_model(
        TrainModel(TrainingRequest(tenant="acme", model_id=models.model.model_id), last_attempt=True),
        Training(
            models=models,
            tasks=tasks,
            input_files=inputs,
            artifacts=lambda: store,
            fit=a_fit(seen),
            settings=Settings(),
            task_results=lambda t: results(t),
        ),
    )


def test_a_taught_model_is_fitted_on_exactly_the_samples_llm_answers():
    # Given a ready task whose sample rows the LLM answered (a label by row), the other rows the
    # lexicon, and one sample row that fell back to the lexicon
    holder: dict = {}

    def results(task):
        sample = sorted(sample_rows(task.task_id, TOTAL, SAMPLE))
        holder["sample"], holder["fell_back"] = sample, sample[0]
        for row in range(1, TOTAL + 1):
            if row == sample[0]:
                yield row, "lexicon-fallback", "neutral"
            elif row in sample:
                yield row, "llm", CLASSES[row % 3]
            else:
                yield row, "lexicon", "positive"

    task, models, tasks, inputs, _ = setup(results)
    seen, store = [], Store()

    # When the training message is handled
    status = run(task, models, tasks, inputs, results, seen, store)

    # Then the model is ready, fitted on the sample's LLM-answered rows only, text for label
    taught = [row for row in holder["sample"] if row != holder["fell_back"]]
    assert status is ModelStatus.READY
    assert seen == [([f"text number {row}" for row in taught], [CLASSES[row % 3] for row in taught])]
    # And its card says it was taught from that many LLM labels, and holds no text
    card = models.model.card
    assert card["source"] == "llm-labels" and card["taught_from_llm_labels"] == len(taught)
    assert not any("text number" in str(value) for value in card.values())
    assert store.put_artifacts and models.ready["counts"]["rows"] == len(taught)


def test_a_taught_model_without_a_way_to_read_the_results_fails_with_a_code():
    task, models, tasks, inputs, _ = setup(None)
    status = train_model(
        TrainModel(TrainingRequest(tenant="acme", model_id=models.model.model_id), last_attempt=True),
        Training(models=models, tasks=tasks, input_files=inputs, artifacts=Store, fit=a_fit([]), settings=Settings()),
    )
    assert status is ModelStatus.FAILED and models.failed.code == "source-unavailable"


def test_too_few_llm_labels_fail_the_model_with_the_trainers_own_code():
    # Given a sample the LLM answered with one class only
    def results(task):
        for row in sample_rows(task.task_id, TOTAL, SAMPLE):
            yield row, "llm", "positive"

    task, models, tasks, inputs, _ = setup(results)
    seen: list = []
    status = run(task, models, tasks, inputs, results, seen, Store())
    # Then the model fails with the trainer's stable code, and nothing was fitted
    assert status is ModelStatus.FAILED and models.failed.code == "one-class-only"
    assert seen == []
