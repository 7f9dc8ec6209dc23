"""Tenant models through the API and the whole pipeline under moto: a model trained here on a
generated corpus is stored in the data bucket as the models API stores it (storage/model_files.py),
and tasks that name it (options.model_id) are answered by it — on the lexicon engine every item,
on auto the items it is sure of (the rest go to the LLM, the fake OpenAI server), from an upload
and from a drop's options sidecar.

Expected labels and routing are worked out from the same artifact with the scorer directly.
"""

from __future__ import annotations

import json

import boto3
import pytest
import requests
from reviewpulse.analysis.lexicon_analyzer import LexiconAnalyzer
from reviewpulse.analysis.models.features import HashingSpec
from reviewpulse.analysis.models.scorer import Scorer
from reviewpulse.analysis.models.training import train
from reviewpulse.analysis.routing import needs_llm
from reviewpulse.storage.model_files import ModelFiles
from reviewpulse.tenant_models.model import ModelSource, ModelStatus, TenantModel
from reviewpulse.tenant_models.repository import ModelRepository
from reviewpulse_tools.bench.labelled_corpus import corpus

from tests.integration import test_llm_pipeline
from tests.integration.helpers import results_of, stored_csv, upload
from tests.integration.test_api import assert_problem
from tests.integration.test_llm_pipeline import lines, sent_texts
from tests.unit.test_llm_engine import model_label

fake, configure, llm = test_llm_pipeline.fake, test_llm_pipeline.configure, test_llm_pipeline.llm

SPEC = HashingSpec(word_buckets=2**12, char_buckets=2**12)
# Texts the model has not seen: its tenant's words, and some that mix two classes' words.
TEXTS = corpus(9, seed=11)[0] + [
    "the app is zorbly but it went kaput",
    "my order arrived, thanks for nothing",
    "the headset is in the box and totally slaps",
]


@pytest.fixture(scope="module")
def artifact():
    # Labels 15 % wrong, as an annotator's: the model is not sure of everything.
    texts, labels = corpus(120, seed=10, noise=0.15)
    return train(texts, labels, seed=0, spec=SPEC, c_grid=(1.0, 4.0)).with_identity("support", "v1")


@pytest.fixture
def stored(artifact, s3, bucket, stack):
    """The model as the models API leaves a ready one: its artifact in the bucket and its record."""
    ModelFiles(bucket, s3).put("acme", artifact)
    record = TenantModel.new("acme", ModelSource(task_id="0" * 28, label_field="label"), name=None, correlation_id=None)
    record = record.model_copy(update={"model_id": "support", "status": ModelStatus.READY, "version": "v1"})
    ModelRepository(stack.ref("ModelsTable"), boto3.client("dynamodb")).add(record)
    return artifact


def expected(artifact) -> list:
    """What the model says of each text, as the analyzer's scorer (with the lexicon's language check)."""
    return Scorer(artifact, language=LexiconAnalyzer().language).analyze(TEXTS)


def test_a_lexicon_batch_that_names_a_model_is_answered_by_it(client, poller, stored, s3, bucket):
    # Given the tenant's model in the bucket, and a file on the lexicon engine naming it
    task_id = upload(client, "tweets.txt", lines(TEXTS), options={"engine": "lexicon", "model_id": "support"})

    # When the pipeline runs
    poller.drain()
    task = client.call("GET", f"/v1/tasks/{task_id}").json()
    results = results_of(client, task_id)

    # Then every item was answered by that model, and says which version
    assert task["status"] == "ready" and task["options"]["model_id"] == "support"
    assert [(r["engine"], r["model"]) for r in results] == [("model", "support@v1")] * len(TEXTS)
    sentiments = expected(stored)
    assert [r["label"] for r in results] == [s.label.value for s in sentiments]
    assert [r["confidence"] for r in results] == [s.confidence for s in sentiments]
    # And the task counts them as the model's
    assert task["answered_by"] == {"model": len(TEXTS)}
    # And the CSV carries the same labels
    assert [row["sentiment_label"] for row in stored_csv(s3, bucket, task_id)] == [s.label.value for s in sentiments]


def test_a_model_deleted_after_its_task_was_created_leaves_per_row_errors(client, poller, stored, stack, s3, bucket):
    # Given a batch created naming the tenant's model (accepted: the model is ready then)
    created = client.call("POST", "/v1/batches", {"filename": "b.txt", "options": {"model_id": "support"}})
    assert created.status == 201, created.body
    task_id = created.json()["task"]["task_id"]
    # And the model deleted before the file arrives (its record and its artifacts, as DELETE
    # /v1/models/{model_id} deletes a model of the API's own ids)
    assert ModelRepository(stack.ref("ModelsTable"), boto3.client("dynamodb")).delete("acme", "support") is not None
    assert ModelFiles(bucket, s3).delete("acme", "support") > 0

    # When the file is uploaded and the pipeline runs
    post = created.json()["upload"]
    assert requests.post(post["url"], data=post["fields"], files={"file": ("b.txt", lines(TEXTS[:3]))}).ok
    poller.drain()

    # Then nothing else answers in its place: each row is a model-not-found error
    task = client.call("GET", f"/v1/tasks/{task_id}").json()
    assert task["status"] == "ready" and task["progress"]["failed"] == 3
    assert [r["error"]["code"] for r in results_of(client, task_id)] == ["model-not-found"] * 3


def test_a_model_the_tenant_does_not_have_is_refused_when_the_task_is_created(client, stored, other_client):
    # Given another tenant naming the first tenant's model, and the first one naming a missing one
    for caller, model_id in ((other_client, "support"), (client, "nothing-here")):
        # When each asks for a batch, Then it is refused at once: 404 model-not-found
        answer = caller.call("POST", "/v1/batches", {"filename": "a.txt", "options": {"model_id": model_id}})
        assert (answer.status, answer.json()["code"]) == (404, "model-not-found"), model_id


def test_a_drop_sidecar_may_name_a_model(client, poller, stored, s3, bucket):
    # Given a sidecar naming the model, written before its file
    s3.put_object(Bucket=bucket, Key="incoming/acme/t.txt.options.json", Body=json.dumps({"model_id": "support"}))
    s3.put_object(Bucket=bucket, Key="incoming/acme/t.txt", Body=lines(TEXTS))

    # When the pipeline runs
    poller.drain()

    # Then the drop's results came from the model
    rows = s3.get_object(Bucket=bucket, Key="outgoing/acme/t.txt.results.jsonl")["Body"].read().decode().splitlines()
    assert [(json.loads(r)["engine"], json.loads(r)["model"]) for r in rows] == [("model", "support@v1")] * len(TEXTS)


def test_auto_through_a_model_sends_only_what_the_model_is_unsure_of(client, poller, stored, llm):
    # Given auto naming the model, without min_confidence: the model's own threshold applies
    threshold = stored.card["auto"]["threshold"]
    routed = [n for n, s in enumerate(expected(stored), start=1) if needs_llm(s, threshold)]
    assert 0 < len(routed) < len(TEXTS), "the fixture has sure and unsure items"

    # When the pipeline runs
    task_id = upload(client, "tweets.txt", lines(TEXTS), options={"engine": "auto", "model_id": "support"})
    poller.drain()
    task = client.call("GET", f"/v1/tasks/{task_id}").json()
    results = results_of(client, task_id)

    # Then exactly the items the model is unsure of reached the LLM; the rest name the model
    assert task["status"] == "ready" and task["options"]["min_confidence"] is None
    assert sorted(sent_texts(llm)) == sorted(TEXTS[n - 1] for n in routed)
    assert [r["engine"] for r in results] == ["llm" if r["row"] in routed else "model" for r in results]
    assert [r["label"] for r in results if r["engine"] == "llm"] == [model_label(TEXTS[n - 1]) for n in routed]
    assert task["answered_by"] == {"model": len(TEXTS) - len(routed), "llm": len(routed)}


def test_auto_with_a_model_takes_the_tasks_min_confidence_over_the_models(client, poller, stored, llm):
    # Given a threshold above every confidence: every item goes to the LLM
    task_id = upload(
        client, "t.txt", lines(TEXTS), options={"engine": "auto", "model_id": "support", "min_confidence": 1.0}
    )
    poller.drain()
    results = results_of(client, task_id)
    assert [r["engine"] for r in results] == ["llm"] * len(TEXTS)


def test_the_llm_engine_takes_no_model(client, llm):
    response = client.call("POST", "/v1/tasks", {"text": "ok", "options": {"engine": "llm", "model_id": "support"}})
    assert_problem(response, 422, "validation-error")
    response = client.call("POST", "/v1/tasks", {"text": "ok", "options": {"model_id": "../etc"}})
    assert_problem(response, 422, "validation-error")
