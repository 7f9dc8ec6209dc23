"""Tenant models through the API Gateway, the training queue and the training function, as
deployed: trained from a ready batch's label column, refused with a stable code when its labels
cannot make a model, private to their tenant, and deleted without touching finished tasks."""

from __future__ import annotations

import csv
import io
import json
import random
import re

import pytest

from tests.conftest import load_event
from tests.integration.helpers import results_of, upload

WORDS = {
    "positive": ["love", "great", "excellent", "happy", "perfect", "wonderful"],
    "negative": ["awful", "broken", "terrible", "refund", "worst", "angry"],
    "neutral": ["arrived", "tuesday", "box", "colour", "blue", "order"],
}
THINGS = ["phone", "delivery", "service", "app", "battery", "screen", "store"]


def labelled_csv(per_class: dict[str, int], *, label=lambda label, i: label, extra_rows: list[dict] = ()) -> bytes:
    """A CSV made here: per class, `n` short texts built from that class's words, its label as
    `label(class, i)` writes it, and any extra rows (an empty text, a row without a label)."""
    rng = random.Random(7)
    rows = []
    for cls, n in per_class.items():
        for i in range(n):
            text = f"{rng.choice(WORDS[cls])} {rng.choice(THINGS)} {rng.choice(WORDS[cls])} {i}"
            rows.append({"text": text, "stars": label(cls, i)})
    rows += list(extra_rows)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["text", "stars"])
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


STARS = {"positive": "5", "negative": "1", "neutral": "3"}


def ready_batch(client, poller, content: bytes) -> str:
    task_id = upload(client, "labelled.csv", content, text_field="text")
    poller.drain()
    assert client.call("GET", f"/v1/tasks/{task_id}").json()["status"] == "ready"
    return task_id


def trained(client, poller, task_id: str, label_field: str = "stars") -> dict:
    created = client.call("POST", "/v1/models", {"task_id": task_id, "label_field": label_field, "name": "tweets"})
    assert created.status == 202, created.body
    assert created.json()["status"] == "training"
    poller.drain()
    return client.call("GET", f"/v1/models/{created.json()['model_id']}").json()


def test_a_model_trained_from_a_ready_batchs_labels_becomes_ready_with_exact_counts(client, poller, runner):
    # Given a ready batch of 90 labelled rows (30 per class, as stars), one unlabelled row and one
    # row with an empty text
    extra = [{"text": "no stars given here", "stars": ""}, {"text": "", "stars": "5"}]
    task_id = ready_batch(
        client, poller, labelled_csv({c: 30 for c in STARS}, label=lambda c, i: STARS[c], extra_rows=extra)
    )

    # When a model is trained from its stars column through the training queue
    model = trained(client, poller, task_id)

    # Then it is ready with a version and a card, and every row is counted by what became of it
    assert model["status"] == "ready", model.get("error")
    assert model["version"] and model["card"]
    assert model["counts"] == {
        "label_negative": 30,
        "label_neutral": 30,
        "label_positive": 30,
        "row_errors": 1,
        "rows": 92,
        "unlabelled": 1,
    }
    assert model["source"] == {
        "task_id": task_id,
        "label_field": "stars",
        "teach_sample": None,
        "teach_set_default": False,
    }
    assert runner.invocations["TrainModelFunction"] == 1
    # And it is listed, not yet the default
    listing = client.call("GET", "/v1/models").json()
    assert [m["model_id"] for m in listing["items"]] == [model["model_id"]]
    assert listing["default_model_id"] is None


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (labelled_csv({"positive": 40}), "one-class-only"),
        (labelled_csv({"positive": 40, "negative": 3}), "too-few-per-class"),
        (
            labelled_csv({"positive": 20, "negative": 20}, label=lambda c, i: f"meh{i}" if i < 5 else c),
            "unreadable-labels",
        ),
        (labelled_csv({"positive": 20, "negative": 20}, label=lambda c, i: ""), "no-training-rows"),
    ],
    ids=["one-class", "too-few", "unreadable", "no-labels"],
)
def test_labels_that_cannot_make_a_model_fail_it_with_a_stable_code(client, poller, content, code):
    # Given a ready batch whose labels cannot make a model
    task_id = ready_batch(client, poller, content)
    # When a model is trained from them
    model = trained(client, poller, task_id)
    # Then it fails with the code, nothing is served, and the error never quotes a text
    assert (model["status"], model["error"]["code"]) == ("failed", code)
    assert model["version"] is None and model["card"] is None
    assert not set(THINGS) & set(re.findall(r"\w+", model["error"]["detail"]))


def test_a_file_of_only_row_errors_fails_its_model(client, poller):
    # Given a ready batch whose every row is an error (empty texts)
    task_id = ready_batch(client, poller, b"text,stars\n,5\n,1\n,3\n")
    # When a model is trained from it, Then it fails: no row has a text and a label
    model = trained(client, poller, task_id)
    assert (model["status"], model["error"]["code"], model["counts"]) == (
        "failed",
        "no-training-rows",
        {"row_errors": 3, "rows": 3},
    )


def test_what_the_api_can_tell_at_once_is_refused_before_anything_is_queued(client, other_client, poller, runner):
    # Given a ready labelled batch, a single-text task and a batch still waiting for its file
    task_id = ready_batch(client, poller, labelled_csv({"positive": 12, "negative": 12}))
    text_task = client.call("POST", "/v1/tasks", {"text": "Lovely shoes"}).json()["task_id"]
    waiting = client.call("POST", "/v1/batches", {"filename": "later.csv"}).json()["task"]["task_id"]
    poller.drain()
    cases = [
        (client, {"task_id": task_id, "label_field": "Stars"}, 400, "label-column-not-found"),
        (client, {"task_id": text_task, "label_field": "stars"}, 400, "label-column-not-found"),
        (client, {"task_id": waiting, "label_field": "stars"}, 409, "task-not-ready"),
        (other_client, {"task_id": task_id, "label_field": "stars"}, 404, "not-found"),
        (client, {"task_id": "../x", "label_field": "stars"}, 404, "not-found"),
        (client, {"task_id": task_id}, 422, "validation-error"),
    ]
    for caller, body, status, code in cases:
        # When each is asked for, Then it is answered at once with its status and code
        answer = caller.call("POST", "/v1/models", body)
        assert (answer.status, answer.json()["code"]) == (status, code), body
    # And no model was recorded or queued
    poller.drain()
    assert client.call("GET", "/v1/models").json()["items"] == []
    assert "TrainModelFunction" not in runner.invocations


def test_another_tenants_model_is_not_found_anywhere(client, other_client, poller):
    # Given a ready model of acme
    task_id = ready_batch(client, poller, labelled_csv({"positive": 12, "negative": 12}))
    model_id = trained(client, poller, task_id)["model_id"]
    # When globex reads, deletes or chooses it as its default, Then each is 404 not-found
    for method, path, body in (
        ("GET", f"/v1/models/{model_id}", None),
        ("DELETE", f"/v1/models/{model_id}", None),
        ("PUT", "/v1/models/default", {"model_id": model_id}),
    ):
        answer = other_client.call(method, path, body)
        assert (answer.status, answer.json()["code"]) == (404, "not-found"), (method, path)
    assert other_client.call("GET", "/v1/models").json() == {"items": [], "default_model_id": None}
    # And acme's model is untouched
    assert client.call("GET", f"/v1/models/{model_id}").json()["status"] == "ready"


def test_the_default_model_is_set_shown_and_cleared_when_the_model_is_deleted(client, poller):
    # Given a ready model and one still training
    task_id = ready_batch(client, poller, labelled_csv({"positive": 12, "negative": 12}))
    ready_id = trained(client, poller, task_id)["model_id"]
    training_id = client.call("POST", "/v1/models", {"task_id": task_id, "label_field": "stars"}).json()["model_id"]
    # When the training one is chosen as default, Then it is refused (409 model-not-ready)
    refused = client.call("PUT", "/v1/models/default", {"model_id": training_id})
    assert (refused.status, refused.json()["code"]) == (409, "model-not-ready")
    # When the ready one is chosen, Then it is the default everywhere it is shown
    assert client.call("PUT", "/v1/models/default", {"model_id": ready_id}).json() == {"model_id": ready_id}
    assert client.call("GET", "/v1/models").json()["default_model_id"] == ready_id
    assert client.call("GET", f"/v1/models/{ready_id}").json()["is_default"] is True
    # When it is deleted, Then it is gone and no longer the default; the other is still there
    assert client.call("DELETE", f"/v1/models/{ready_id}").status == 204
    assert client.call("GET", f"/v1/models/{ready_id}").status == 404
    assert client.call("DELETE", f"/v1/models/{ready_id}").status == 404
    listing = client.call("GET", "/v1/models").json()
    assert (listing["default_model_id"], [m["model_id"] for m in listing["items"]]) == (None, [training_id])


def test_a_model_deleted_while_it_trains_never_becomes_ready_and_leaves_no_artifact(client, poller, s3, bucket):
    # Given a model queued for training
    task_id = ready_batch(client, poller, labelled_csv({"positive": 12, "negative": 12}))
    model_id = client.call("POST", "/v1/models", {"task_id": task_id, "label_field": "stars"}).json()["model_id"]
    # When it is deleted before the training function runs, and the function then runs
    assert client.call("DELETE", f"/v1/models/{model_id}").status == 204
    poller.drain()
    # Then it stays gone, and nothing of it is in the bucket
    assert client.call("GET", f"/v1/models/{model_id}").status == 404
    assert s3.list_objects_v2(Bucket=bucket, Prefix=f"models/acme/{model_id}/").get("KeyCount", 0) == 0


def test_a_redelivered_training_message_changes_nothing(client, poller, runner):
    # Given a model trained to ready
    task_id = ready_batch(client, poller, labelled_csv({"positive": 12, "negative": 12}))
    model = trained(client, poller, task_id)
    # When its training message arrives again (SQS delivers at least once), as the queue's event
    event = load_event("train_model.json")
    event["Records"][0]["body"] = json.dumps({"tenant": "acme", "model_id": model["model_id"]})
    assert runner.invoke("TrainModelFunction", event) == {"batchItemFailures": []}
    # Then the model is exactly as it was
    assert client.call("GET", f"/v1/models/{model['model_id']}").json() == model


def test_new_tasks_that_name_no_model_are_read_by_the_tenants_default(client, other_client, poller):
    # Given a ready model made acme's default
    task_id = ready_batch(client, poller, labelled_csv({c: 15 for c in STARS}, label=lambda c, i: STARS[c]))
    model = trained(client, poller, task_id)
    assert client.call("PUT", "/v1/models/default", {"model_id": model["model_id"]}).status == 200
    # When acme and globex each upload a batch naming no model
    ours = upload(client, "new.txt", b"love phone great\nawful store worst\n")
    theirs = upload(other_client, "new.txt", b"love phone great\nawful store worst\n")
    poller.drain()
    # Then acme's task keeps the default on its options and every result names that model's version
    task = client.call("GET", f"/v1/tasks/{ours}").json()
    assert task["options"]["model_id"] == model["model_id"]
    answered = {(r["engine"], r.get("model")) for r in results_of(client, ours)}
    assert answered == {("model", f"{model['model_id']}@{model['version']}")}
    # And globex's task (no default of its own) is read by the lexicon
    assert other_client.call("GET", f"/v1/tasks/{theirs}").json()["options"]["model_id"] is None
    assert {r["engine"] for r in results_of(other_client, theirs)} == {"lexicon"}
    # When the model is deleted, Then the finished task is still readable, its results naming the
    # model
    assert client.call("DELETE", f"/v1/models/{model['model_id']}").status == 204
    assert client.call("GET", f"/v1/tasks/{ours}").json()["status"] == "ready"
    assert {r.get("model") for r in results_of(client, ours)} == {f"{model['model_id']}@{model['version']}"}


def test_a_new_task_naming_a_model_it_cannot_use_is_refused_at_creation(client, other_client, poller):
    # Given acme's ready model, a model of acme still training, and a model of acme since deleted
    task_id = ready_batch(client, poller, labelled_csv({c: 15 for c in STARS}, label=lambda c, i: STARS[c]))
    ready_id = trained(client, poller, task_id)["model_id"]
    deleted_id = trained(client, poller, task_id)["model_id"]
    assert client.call("DELETE", f"/v1/models/{deleted_id}").status == 204
    training_id = client.call("POST", "/v1/models", {"task_id": task_id, "label_field": "stars"}).json()["model_id"]
    before = [len(c.call("GET", "/v1/tasks").json()["items"]) for c in (client, other_client)]
    cases = [
        (client, deleted_id, 404, "model-not-found"),
        (client, "mdl_0123456789abcdef", 404, "model-not-found"),
        (client, "student", 404, "model-not-found"),  # a name of the options' shape that is no model id
        (other_client, ready_id, 404, "model-not-found"),  # another tenant's: answered like a missing one
        (client, training_id, 409, "model-not-ready"),
    ]
    for caller, model_id, status, code in cases:
        options = {"engine": "lexicon", "model_id": model_id}
        # When a single text, a batch and a batch that leaves the engine to the deployment name it
        for path, body in (
            ("/v1/tasks", {"text": "love phone great", "options": options}),
            ("/v1/batches", {"filename": "later.txt", "options": options}),
            ("/v1/batches", {"filename": "later.txt", "options": {"model_id": model_id}}),
        ):
            answer = caller.call("POST", path, body)
            # Then each is answered at once as problem+json with the status and code
            assert (answer.status, answer.json()["code"]) == (status, code), (path, model_id)
            content_type = {k.lower(): v for k, v in answer.headers.items()}["content-type"]
            assert content_type.startswith("application/problem+json")
    # And no task was created for either tenant
    assert [len(c.call("GET", "/v1/tasks").json()["items"]) for c in (client, other_client)] == before
    # And the ready model is still accepted
    assert client.call("POST", "/v1/tasks", {"text": "love phone", "options": {"model_id": ready_id}}).status == 202


def test_texts_analysed_at_once_are_read_by_a_named_or_default_model(client, other_client, poller):
    # Given acme's ready model and a model still training
    task_id = ready_batch(client, poller, labelled_csv({c: 15 for c in STARS}, label=lambda c, i: STARS[c]))
    model = trained(client, poller, task_id)
    training_id = client.call("POST", "/v1/models", {"task_id": task_id, "label_field": "stars"}).json()["model_id"]
    texts = ["love phone great", "awful store worst", ""]
    # When acme analyses texts naming the model
    named = client.call("POST", "/v1/analyze", {"texts": texts, "options": {"model_id": model["model_id"]}})
    # Then each text is answered by that model's version, and the empty one is a per-text error
    assert named.status == 200, named.body
    answer = named.json()
    assert [(r["index"], r["engine"], r["model"]) for r in answer["results"]] == [
        (0, "model", f"{model['model_id']}@{model['version']}"),
        (1, "model", f"{model['model_id']}@{model['version']}"),
    ]
    assert [(e["index"], e["code"]) for e in answer["errors"]] == [(2, "empty-text")]
    # When the model is acme's default and the texts name none, Then the default reads them
    assert client.call("PUT", "/v1/models/default", {"model_id": model["model_id"]}).status == 200
    default = client.call("POST", "/v1/analyze", {"texts": texts[:1]}).json()
    assert [r["model"] for r in default["results"]] == [f"{model['model_id']}@{model['version']}"]
    # And globex (no default) is read by the lexicon, and is refused acme's model like a missing one
    assert [r["engine"] for r in other_client.call("POST", "/v1/analyze", {"texts": texts[:1]}).json()["results"]] == [
        "lexicon"
    ]
    for caller, model_id, status, code in (
        (other_client, model["model_id"], 404, "model-not-found"),
        (client, "mdl_0123456789abcdef", 404, "model-not-found"),
        (client, training_id, 409, "model-not-ready"),
    ):
        refused = caller.call("POST", "/v1/analyze", {"texts": texts[:1], "options": {"model_id": model_id}})
        assert (refused.status, refused.json()["code"]) == (status, code), model_id


def test_drops_are_read_by_the_default_model_and_a_sidecar_naming_no_model_fails_the_drop(client, poller, s3, bucket):
    # Given acme's ready model made its default, and a model since deleted
    task_id = ready_batch(client, poller, labelled_csv({c: 15 for c in STARS}, label=lambda c, i: STARS[c]))
    model = trained(client, poller, task_id)
    deleted_id = trained(client, poller, task_id)["model_id"]
    assert client.call("DELETE", f"/v1/models/{deleted_id}").status == 204
    assert client.call("PUT", "/v1/models/default", {"model_id": model["model_id"]}).status == 200
    # When a file is dropped with no sidecar, and another with a sidecar naming the deleted model
    s3.put_object(Bucket=bucket, Key="incoming/acme/plain.txt", Body=b"love phone great\nawful store worst\n")
    s3.put_object(Bucket=bucket, Key="incoming/acme/gone.txt.options.json", Body=json.dumps({"model_id": deleted_id}))
    s3.put_object(Bucket=bucket, Key="incoming/acme/gone.txt", Body=b"love phone great\n")
    poller.drain()
    drops = {t["filename"]: t for t in client.call("GET", "/v1/tasks").json()["items"] if t["type"] == "drop"}
    # Then the plain drop kept the default model on its options and each row names its version
    plain = drops["plain.txt"]
    assert (plain["status"], plain["options"]["model_id"]) == ("ready", model["model_id"])
    assert [r.get("model") for r in results_of(client, plain["task_id"])] == [
        f"{model['model_id']}@{model['version']}"
    ] * 2
    # And the drop naming the deleted model failed as a whole (invalid-options, naming the code),
    # with no row analysed
    gone = drops["gone.txt"]
    assert (gone["status"], gone["error"]["code"]) == ("error", "invalid-options")
    assert "model-not-found" in gone["error"]["detail"]
    assert gone["progress"]["processed"] == 0
