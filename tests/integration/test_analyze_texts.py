"""POST /v1/analyze: up to 25 texts answered in the response, like Comprehend's BatchDetectSentiment;
the LLM answers there when it can in time, else a task follows."""

from __future__ import annotations

import threading

import pytest
from reviewpulse.analysis.lexicon_analyzer import LexiconAnalyzer
from reviewpulse.settings import get_settings
from reviewpulse.usecases.analyze_texts import label_probabilities
from reviewpulse_tools.doubles.fake_openai import FakeOpenAI

from tests.integration.helpers import NEGATIVE, POSITIVE, results_of


def test_texts_are_answered_at_once_with_probabilities_and_inline_errors(client):
    # Given three good texts, an empty one and one over the deployment's maximum
    too_long = "a" * (get_settings().max_text_chars + 1)
    texts = [POSITIVE[0], "", NEGATIVE[0], too_long, "The package arrived on Tuesday."]

    # When they are sent to /v1/analyze
    response = client.call("POST", "/v1/analyze", {"texts": texts, "options": {"engine": "lexicon"}})

    # Then each good text has the lexicon's own answer, in request order
    assert response.status == 200, response.body
    body = response.json()
    assert body["engine"] == "lexicon" and body["usage"] is None
    assert [r["index"] for r in body["results"]] == [0, 2, 4]
    analyzer = LexiconAnalyzer()
    for result in body["results"]:
        expected = analyzer.analyze_one(texts[result["index"]])
        assert (result["label"], result["score"], result["confidence"]) == (
            expected.label.value,
            expected.score,
            expected.confidence,
        )
        # And probabilities that sum to 1, the label's being its confidence, mixed 0 for the lexicon
        probabilities = result["probabilities"]
        assert sum(probabilities.values()) == pytest.approx(1, abs=1e-5)
        assert probabilities[result["label"]] == pytest.approx(result["confidence"], abs=1e-6)
        assert probabilities["mixed"] == 0
        assert result["language"]
    assert [r["label"] for r in body["results"]][:2] == ["positive", "negative"]
    # And the two bad texts are errors inline, by index and row error code
    assert [(e["index"], e["code"]) for e in body["errors"]] == [(1, "empty-text"), (3, "text-too-long")]
    assert too_long not in response.body


def test_texts_are_answered_without_a_worker_thread(client, monkeypatch):
    # Given every thread the process starts recorded by its class
    started = []
    start = threading.Thread.start
    monkeypatch.setattr(threading.Thread, "start", lambda thread: started.append(type(thread)) or start(thread))
    # When texts are sent to /v1/analyze for the lexicon
    response = client.call("POST", "/v1/analyze", {"texts": POSITIVE[:2], "options": {"engine": "lexicon"}})
    # Then they are answered on the invocation's own thread: FastAPI started no worker thread of its
    # thread pool (anyio's) for the route or its dependencies, which it would for each invocation
    assert response.status == 200, response.body
    assert started, "the local gateway runs each invocation on a thread of its own"
    assert not [kind for kind in started if kind.__module__.startswith("anyio")], started


@pytest.mark.parametrize(
    "body",
    [
        {"texts": []},
        {"texts": ["x"] * 26},
        {"texts": "one text"},
        {"texts": ["x"], "options": {"engine": "magic"}},
        {"texts": ["x"], "extra": 1},
    ],
)
def test_bad_requests_are_problems_not_errors(client, body):
    response = client.call("POST", "/v1/analyze", body)
    assert response.status == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "validation-error"


def test_the_llm_answers_at_once_when_it_can(client, runner, monkeypatch):
    # Given the llm engine configured, on the fake OpenAI-compatible server
    with FakeOpenAI() as server:
        for name, value in {"OPENAI_API_KEY": "test-key", "OPENAI_BASE_URL": server.base_url}.items():
            monkeypatch.setenv(name, value)
            runner.extra_environment[name] = value
        get_settings.cache_clear()
        # When texts are sent with engine llm
        response = client.call("POST", "/v1/analyze", {"texts": POSITIVE[:2], "options": {"engine": "llm"}})
    # Then the LLM's answers come back at once, with what it was asked
    assert response.status == 200, response.body
    body = response.json()
    assert {r["engine"] for r in body["results"]} == {"llm"} and len(body["results"]) == 2
    assert body["usage"]["requests"] >= 1
    for result in body["results"]:
        assert sum(result["probabilities"].values()) == pytest.approx(1, abs=1e-5)


def test_an_llm_that_cannot_answer_in_time_gives_a_task_to_follow(client, poller, runner, monkeypatch):
    # Given an LLM endpoint that refuses every request (the fallback would be the lexicon's guess)
    with FakeOpenAI() as server:
        server.always = "status:500"
        environment = {"OPENAI_API_KEY": "test-key", "OPENAI_BASE_URL": server.base_url, "LLM_MAX_RETRIES": "0"}
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
            runner.extra_environment[name] = value
        get_settings.cache_clear()
        # When texts are sent with engine llm
        response = client.call(
            "POST", "/v1/analyze", {"texts": [POSITIVE[0], "", NEGATIVE[0]], "options": {"engine": "llm"}}
        )

    # Then the answer is 202 with the task that analyses them, and where to follow it
    assert response.status == 202, response.body
    task = response.json()
    assert response.headers["location"] == f"/v1/tasks/{task['task_id']}"
    assert task["progress"]["total"] == 3 and task["options"]["engine"] == "llm"
    # And the task ends with a result per text, the empty one a row error
    poller.drain()
    results = results_of(client, task["task_id"])
    assert [r["row"] for r in results] == [1, 2, 3]
    assert results[1]["error"]["code"] == "empty-text"


def test_label_probabilities_follow_the_documented_rule():
    # The chosen label gets the confidence; the rest is shared by the engine's other labels
    assert label_probabilities("positive", 0.7, "lexicon") == {
        "positive": 0.7,
        "negative": 0.15,
        "neutral": 0.15,
        "mixed": 0.0,
    }
    assert label_probabilities("mixed", 0.4, "llm") == {"positive": 0.2, "negative": 0.2, "neutral": 0.2, "mixed": 0.4}
