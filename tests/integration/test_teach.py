"""options.teach through the API, the queues and the functions under moto, with the fake OpenAI
server: a batch on auto sends its teaching sample to the LLM, a model is trained from exactly those
answers, the rest of the same batch is read through it (only what it is unsure of goes to the LLM),
and the next batch, read by that model, pays no teaching cost. Options no model can be taught from
are refused with 400 teach-unavailable."""

from __future__ import annotations

import boto3
import pytest
from reviewpulse.analysis.engines.base import EngineParts
from reviewpulse.analysis.engines.model import ModelAnswers
from reviewpulse.analysis.lexicon_analyzer import LexiconAnalyzer
from reviewpulse.analysis.options import AnalysisOptions
from reviewpulse.analysis.routing import needs_llm
from reviewpulse.analysis.sentiment import Analysis
from reviewpulse.analysis.teach import sample_rows
from reviewpulse.settings import get_settings
from reviewpulse.storage.model_files import ModelFiles
from reviewpulse_tools.bench.labelled_corpus import corpus

from tests.integration import test_llm_pipeline
from tests.integration.helpers import results_of, upload
from tests.integration.test_api import assert_problem
from tests.integration.test_llm_pipeline import lines, sent_texts
from tests.unit.test_llm_engine import model_label

fake, configure, llm = test_llm_pipeline.fake, test_llm_pipeline.configure, test_llm_pipeline.llm

N, SAMPLE = 300, 200
# Distinct texts (repeats would be sent once), of three classes.
TEXTS = [f"{text} (#{i})" for i, text in enumerate(corpus(N, seed=5)[0])]
AGAIN = [f"{text} (v{i})" for i, text in enumerate(corpus(N, seed=6)[0])]


def _model_unsure(stack, model_id: str, texts: dict[int, str]) -> set[int]:
    """The rows of `texts` the tenant's model is unsure of, at the threshold auto reads it with
    (its card's, the task naming none): scored here from its stored artifact."""
    options = AnalysisOptions(engine="auto", model_id=model_id)
    parts = EngineParts(get_settings(), models=ModelFiles(stack.ref("DataBucket"), boto3.client("s3")))
    answers = ModelAnswers(parts)
    scored = answers.answer("acme", texts, options).answers
    threshold = answers.threshold("acme", options)
    return {n for n, a in scored.items() if not isinstance(a, Analysis) or needs_llm(a.sentiment, threshold)}


def test_a_batch_that_teaches_reads_its_rest_through_the_model_it_taught(client, poller, llm, stack):
    # Given a batch on auto asking to teach a model from 200 of its 300 items, made the default
    task_id = upload(
        client,
        "reviews.txt",
        lines(TEXTS),
        options={"engine": "auto", "teach": {"sample": SAMPLE, "set_default": True}},
    )

    # When the pipeline runs up to the training of its model (split of the sample, workers,
    # finalizer; the training queue not yet polled)
    every_trigger = poller.triggers
    poller.triggers = [t for t in every_trigger if t.queue != "TrainingQueue"]
    try:
        poller.drain()
    finally:
        poller.triggers = every_trigger
    teaching = client.call("GET", f"/v1/tasks/{task_id}").json()
    # Then the task view says the model is being taught and the rest waits for it
    assert (teaching["status"], teaching["teach_phase"]) == ("processing", "training")

    # When the rest runs (trainer, split of the rest, workers, finalizer)
    poller.drain()
    task = client.call("GET", f"/v1/tasks/{task_id}").json()
    results = results_of(client, task_id)

    # Then the task is ready without a teach-failed warning, every row counted once
    assert task["status"] == "ready", task.get("error")
    assert [w for w in task["warnings"] if w["code"] == "teach-failed"] == []
    assert task["teach_phase"] == "rest"
    assert [r["row"] for r in results] == list(range(1, N + 1))
    assert task["progress"] == {"total": N, "processed": N, "failed": 0}
    model_id = task["teach_model_id"]
    # And a model of the tenant is ready, trained on exactly the sample's 200 LLM labels
    model = client.call("GET", f"/v1/models/{model_id}").json()
    assert model["status"] == "ready", model.get("error")
    assert model["source"]["teach_sample"] == SAMPLE and model["source"]["task_id"] == task_id
    assert model["card"]["source"] == "llm-labels" and model["card"]["taught_from_llm_labels"] == SAMPLE
    sample = sample_rows(task_id, N, SAMPLE)
    labels = [model_label(TEXTS[n - 1]) for n in sample]
    assert {k: v for k, v in model["counts"].items() if k.startswith("label_")} == {
        f"label_{label}": labels.count(label) for label in set(labels)
    }
    # And the rest was read through it: the task names it, and the LLM saw exactly the sample
    # plus the items of the rest the model is unsure of, each once
    assert task["options"]["model_id"] == model_id
    rest = {n: TEXTS[n - 1] for n in range(1, N + 1) if n not in sample}
    unsure = _model_unsure(stack, model_id, rest)
    assert sorted(sent_texts(llm)) == sorted([TEXTS[n - 1] for n in sample] + [rest[n] for n in unsure])
    assert {r["row"] for r in results if r["engine"] == "llm"} == set(sample) | unsure
    # And every item of the rest the model settled names the model version that answered it
    settled = [r for r in results if r["row"] in rest and r["row"] not in unsure]
    assert settled and {(r["engine"], r["model"]) for r in settled} == {("model", f"{model_id}@{model['version']}")}
    assert task["answered_by"] == {"llm": len(sample) + len(unsure), "model": len(settled)}
    # And its headline (in the task, the insights and the report) says the model was taught here
    assert task["headline"]["model"] == model_id
    assert f"model {model_id}, taught from the LLM's answers to {SAMPLE} items" in task["headline"]["statement"]
    listed = client.call("GET", "/v1/models").json()
    assert [m["is_default"] for m in listed["items"] if m["model_id"] == model_id] == [True]

    # When a second batch on auto names nothing (the default model reads it)
    before = len(sent_texts(llm))
    second = upload(client, "more.txt", lines(AGAIN), options={"engine": "auto"})
    poller.drain()
    again = client.call("GET", f"/v1/tasks/{second}").json()

    # Then it is answered through the taught model, with no teaching: only what it is unsure of
    # reaches the LLM, and it costs less than the batch that paid for the teaching
    assert again["status"] == "ready" and again["options"]["model_id"] == model_id
    assert again["teach_model_id"] is None
    sent_again = len(sent_texts(llm)) - before
    assert (
        again["answered_by"].get("llm", 0) == sent_again == len(_model_unsure(stack, model_id, dict(enumerate(AGAIN))))
    )
    assert again["usage"]["estimated_cost_usd"] < task["usage"]["estimated_cost_usd"]


def test_the_quote_states_what_teaching_costs_and_at_most_what_it_saves(client, poller, llm, stack):
    # Given a quote-only batch on auto that teaches from 200 items
    min_confidence = client.call("POST", "/v1/tasks", {"text": "ok", "options": {"engine": "auto"}}).json()["options"][
        "min_confidence"
    ]
    task_id = upload(
        client, "reviews.txt", lines(TEXTS), options={"engine": "auto", "quote_only": True, "teach": {"sample": SAMPLE}}
    )

    # When it is quoted
    poller.drain()
    quoted = client.call("GET", f"/v1/tasks/{task_id}").json()

    # Then the quote counts the sample as LLM items beside the lexicon's unsure ones, and prices it
    sample = sample_rows(task_id, N, SAMPLE)
    unsure = {n for n, s in enumerate(LexiconAnalyzer().analyze(TEXTS), start=1) if needs_llm(s, min_confidence)}
    quote = quoted["quote"]
    assert quoted["status"] == "quoted" and llm.stats().requests == 0
    assert quote["llm_items"] == len(sample | unsure)
    teach = quote["teach"]
    assert teach["sample_items"] == SAMPLE
    assert 0 < teach["sample_cost_usd"] < quote["estimated_cost_usd"]
    # And the later batch's LLM items without a model: the unsure share outside the sample, scaled
    assert teach["later_llm_items_without_model"] == round(len(unsure - sample) * N / (N - SAMPLE))
    later = teach["later_llm_items_without_model"]
    per_item = teach["sample_cost_usd"] / SAMPLE
    # Both dollar figures are rounded to 6 places: the saving by half a micro-dollar, and the
    # sample cost's half micro-dollar reaches it scaled by later / SAMPLE.
    rounding = 0.5e-6 * (1 + later / SAMPLE) + 1e-12
    assert teach["later_saving_usd_at_most"] == pytest.approx(later * per_item, abs=rounding)
    assert "upper bound" in teach["how"]

    # When it is started, Then the LLM answers the sample, and of the rest only what the model it
    # taught is unsure of (the quote priced the rest as the lexicon would send it)
    assert client.call("POST", f"/v1/tasks/{task_id}/start").status == 200
    poller.drain()
    task = client.call("GET", f"/v1/tasks/{task_id}").json()
    rest = {n: TEXTS[n - 1] for n in range(1, N + 1) if n not in sample}
    taught = _model_unsure(stack, task["teach_model_id"], rest)
    assert task["status"] == "ready" and task["answered_by"]["llm"] == SAMPLE + len(taught)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/batches", {"filename": "a.txt", "options": {"engine": "lexicon", "teach": {"sample": 500}}}),
        (
            "/v1/batches",
            {"filename": "a.txt", "options": {"engine": "auto", "mode": "batch", "teach": {"sample": 500}}},
        ),
        ("/v1/tasks", {"text": "great", "options": {"engine": "llm", "teach": {"sample": 500}}}),
    ],
)
def test_teaching_where_no_model_can_be_taught_is_refused(client, llm, path, body):
    assert_problem(client.call("POST", path, body), 400, "teach-unavailable")


@pytest.mark.parametrize("teach", [{"sample": 199}, {"sample": 10_001}, {"sample": 500, "seed": 3}, {}])
def test_a_sample_out_of_bounds_or_unknown_keys_are_a_validation_error(client, llm, teach):
    body = {"filename": "a.txt", "options": {"engine": "auto", "teach": teach}}
    assert_problem(client.call("POST", "/v1/batches", body), 422, "validation-error")
