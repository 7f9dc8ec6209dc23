"""LLM tasks through the API and the whole pipeline under moto: split → LLM work queue →
LlmAnalyzeChunkFunction → finalize (with the report), the LLM being the fake OpenAI server configured
through the functions' environment as a deployment configures it.

The fake labels with VADER, so expected labels are worked out with VADER directly.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from reviewpulse.settings import get_settings
from reviewpulse_tools.doubles.fake_openai import FakeOpenAI

from tests.integration.helpers import results_of, upload
from tests.integration.test_api import assert_problem
from tests.unit.test_llm_engine import model_label

TEXTS = [
    "The battery is great and lasts for days.",
    "Delivery was slow and the box was crushed.",
    "Great price for what you get.",
    "The screen is dim and the battery is terrible.",
    "Support was helpful and quick.",
    "Awful quality, it broke on day one.",
    "I love the sound, really excellent.",
    "Shipping took forever, very disappointing.",
    "Fair price, decent screen. Happy overall.",
    "The refund process was a nightmare.",
]
OTHER_TEXTS = [
    "The charger is excellent.",
    "Horrible packaging, everything was wet.",
    "Lovely colours, my kids adore it.",
    "The manual is useless and confusing.",
    "Works fine, no complaints at all.",
]
CHUNK_ITEMS = 4
INPUT_PRICE, OUTPUT_PRICE = 2.5, 10.0
LLM = {"engine": "llm"}

# The insight options a task keeps when none are asked for (and redaction, on unless asked otherwise;
# no mode: the deployment decides).
NO_INSIGHT_OPTIONS = {
    "group_by": [],
    "time_field": None,
    "time_bucket": None,
    "label_field": None,
    "categories": {},
    "compare_to": None,
    "compare": None,
    "redact_pii": True,
    "mode": None,
}
NO_FILE_OPTIONS = {"delimiter": None, "sheet": None, "csv_bom": False, "csv_escape_formulas": True}
# ... and the spending options it keeps when none are asked for.
NO_BUDGET_OPTIONS = {"quote_only": False, "max_cost_usd": None, "on_budget_exhausted": "lexicon"}
# ... and no tenant model.
NO_MODEL_OPTIONS = {"model_id": None, "model_version": None, "teach": None}


def lines(texts: list[str]) -> bytes:
    return ("\n".join(texts) + "\n").encode()


def chunk_sizes(n: int) -> list[int]:
    return [min(CHUNK_ITEMS, n - start) for start in range(0, n, CHUNK_ITEMS)]


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


def sent_texts(fake: FakeOpenAI) -> list[str]:
    """Every text of every sentiment request the fake received."""
    return [text for request in fake.stats().texts for text in request]


@pytest.fixture
def configure(runner, monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Set environment variables for every function, overriding the template's values (as
    `sam local --env-vars` does), and for this process; restored after the test."""

    def apply(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)
            runner.extra_environment[name] = value
        get_settings.cache_clear()

    return apply


@pytest.fixture
def llm(configure, fake: FakeOpenAI) -> FakeOpenAI:
    """The LLM engine configured with a key and the fake's URL; small chunks, one quick retry."""
    configure(
        OPENAI_API_KEY="test-key",
        OPENAI_BASE_URL=fake.base_url,
        LLM_MODEL="fake-sentiment-1",
        LLM_MAX_RETRIES="1",
        LLM_TIMEOUT_SECONDS="5",
        LLM_REQUESTS_PER_MINUTE="0",
        LLM_CHUNK_MAX_ITEMS=str(CHUNK_ITEMS),
        LLM_INPUT_PRICE_PER_MILLION=str(INPUT_PRICE),
        LLM_OUTPUT_PRICE_PER_MILLION=str(OUTPUT_PRICE),
    )
    return fake


def run(client, poller, texts: list[str], filename: str = "reviews.txt", **options: Any) -> tuple[dict, list[dict]]:
    """Upload a text file with these options, run the pipeline, return the task and its results."""
    task_id = upload(client, filename, lines(texts), options={**LLM, **options})
    poller.drain()
    task = client.call("GET", f"/v1/tasks/{task_id}").json()
    return task, results_of(client, task_id)


def assert_every_row_once(task: dict, results: list[dict], n: int) -> None:
    assert task["status"] == "ready", task
    assert task["progress"]["total"] == n
    assert task["progress"]["processed"] + task["progress"]["failed"] == n
    assert [item["row"] for item in results] == list(range(1, n + 1))
    assert sum(1 for item in results if item.get("error")) == task["progress"]["failed"]


def assert_labelled_by_the_llm(results: list[dict], texts: list[str]) -> None:
    assert [(item.get("engine"), item.get("label")) for item in results] == [("llm", model_label(t)) for t in texts]


def mentions(item: dict) -> set[tuple[str, str]]:
    return {(t["theme"], t["polarity"]) for t in item.get("themes") or []}


def sentiment_items(fake: FakeOpenAI) -> int:
    return sum(fake.stats().item_counts)


# ---------------------------------------------------------------- the whole path


def test_an_llm_batch_with_aspects_and_a_report_comes_back_row_for_row(client, poller, runner, llm):
    # Given a 10-row file asking for the llm engine, two aspects and a report, in chunks of 4
    aspects = ["battery", "price"]

    # When the pipeline runs
    task, results = run(client, poller, TEXTS, aspects=aspects, report=True)

    # Then the task is ready with every row exactly once, each analysed by the LLM
    assert_every_row_once(task, results, len(TEXTS))
    assert task["progress"] == {"total": 10, "processed": 10, "failed": 0}
    assert task["options"] == {
        "engine": "llm",
        "aspects": aspects,
        "report": True,
        "min_confidence": None,
        **NO_INSIGHT_OPTIONS,
        **NO_BUDGET_OPTIONS,
        **NO_FILE_OPTIONS,
        **NO_MODEL_OPTIONS,
    }
    assert_labelled_by_the_llm(results, TEXTS)
    assert task["answered_by"] == {"llm": 10} and task["notes"] == []
    # And each chunk went through the LLM worker, one request per chunk; none through the lexicon worker
    stats = llm.stats()
    assert runner.invocations["LlmAnalyzeChunkFunction"] == len(chunk_sizes(10))
    assert "AnalyzeChunkFunction" not in runner.invocations
    assert sorted(stats.item_counts) == sorted(chunk_sizes(10))
    # And each result rates exactly the requested aspects, quoting its own text verbatim
    for item, text in zip(results, TEXTS, strict=True):
        assert [a["aspect"] for a in item["aspects"]] == aspects
        for aspect in item["aspects"]:
            assert (aspect["label"] == "not_mentioned") == (aspect.get("evidence") is None)
            assert aspect.get("evidence") is None or aspect["evidence"] in text
    assert any(a.get("evidence") for item in results for a in item["aspects"])

    # And the usage is what the server reported, for the chunks and the executive summary together
    assert stats.requests == len(chunk_sizes(10)) + 1
    assert task["usage"] == {
        "requests": stats.requests,
        "input_tokens": stats.prompt_tokens,
        "output_tokens": stats.completion_tokens,
        "cached_items": 0,
        "batch_requests": 0,  # all synchronous: nothing at the Batch API's price
        "batch_input_tokens": 0,
        "batch_output_tokens": 0,
        "estimated_cost_usd": pytest.approx(
            (stats.prompt_tokens * INPUT_PRICE + stats.completion_tokens * OUTPUT_PRICE) / 1_000_000, abs=1e-6
        ),
    }
    assert task["usage"]["estimated_cost_usd"] > 0

    # And the report's themes are counted from the results: once per item that mentions them
    counted = Counter(mention for item in results for mention in mentions(item))
    assert max(counted.values()) > 1  # some theme recurs, so counting is exercised
    report = task["report"]
    reported = {(t["theme"], t["polarity"]): t for t in report["themes"]}
    assert reported and len(reported) == len(report["themes"])
    for key, theme in reported.items():
        assert theme["count"] == counted[key] > 0
        assert theme["example_ids"] and set(theme["example_ids"]) <= {i["id"] for i in results if key in mentions(i)}
    # And for each polarity the most frequent themes are the ones shown, up to five
    for polarity in ("praise", "complaint"):
        shown = [c for (name, p), c in counted.items() if p == polarity and (name, p) in reported]
        hidden = [c for (name, p), c in counted.items() if p == polarity and (name, p) not in reported]
        assert len(shown) == min(5, len(shown) + len(hidden))
        assert not hidden or max(hidden) <= min(shown)
    # And the executive summary was written by the LLM
    assert report["written_by"] == "llm" and report["executive_summary"]


def test_a_text_task_on_the_llm_engine(client, poller, runner, llm):
    created = client.call("POST", "/v1/tasks", {"text": TEXTS[0], "id": "t1", "options": LLM})
    assert created.status == 202, created.body
    poller.drain()
    task = client.call("GET", f"/v1/tasks/{created.json()['task_id']}").json()
    (item,) = results_of(client, task["task_id"])
    assert (task["status"], item["id"], item["engine"], item["label"]) == ("ready", "t1", "llm", model_label(TEXTS[0]))
    assert runner.invocations["LlmAnalyzeChunkFunction"] == 1
    assert task["usage"]["requests"] == llm.stats().requests == 1


# ---------------------------------------------------------------- faults


# The sentiment requests a fault on the first chunk's request (4 items) adds: the SDK's retry of a
# failed request, the chunk again after a malformed answer, its halves after a truncated one, the
# one item left out or answered twice, nothing for an unknown id.
EXTRA_REQUESTS = {
    "status:500": [4],
    "status:429": [4],
    "slow:1": [4],
    "malformed": [4],
    "truncated": [2, 2],
    "missing": [1],
    "duplicate": [1],
    "extra": [],
}


@pytest.mark.parametrize("fault", list(EXTRA_REQUESTS))
def test_every_row_comes_back_once_whatever_the_llm_does_wrong(client, poller, llm, configure, fault):
    # Given a fault on the first LLM request (a slow answer outlasting the client's timeout)
    if fault.startswith("slow"):
        configure(LLM_TIMEOUT_SECONDS="0.3")
    llm.script([fault])

    # When a 10-row LLM batch runs
    task, results = run(client, poller, TEXTS)

    # Then the fault was met and dealt with by exactly the requests it calls for
    assert llm.config()["script"] == []
    assert sorted(llm.stats().item_counts) == sorted(chunk_sizes(10) + EXTRA_REQUESTS[fault])
    # And every row came back once, analysed by the LLM
    assert_every_row_once(task, results, len(TEXTS))
    assert task["progress"] == {"total": 10, "processed": 10, "failed": 0}
    assert_labelled_by_the_llm(results, TEXTS)
    # And no chunk had to be redelivered by SQS: the engine dealt with the fault itself
    assert poller.failures == 0


def test_an_outage_falls_back_to_the_lexicon_engine(client, poller, llm, configure):
    # Given an LLM that answers every request with 503, a breaker that opens after 2 failures,
    # and the lexicon fallback
    configure(LLM_FALLBACK="lexicon", LLM_MAX_RETRIES="0", LLM_BREAKER_FAILURES="2")
    llm.always = "status:503"

    # When a 10-row LLM batch (three chunks) runs
    task, results = run(client, poller, TEXTS)

    # Then the task is ready, every row analysed by the lexicon engine as a fallback
    assert_every_row_once(task, results, len(TEXTS))
    assert task["progress"] == {"total": 10, "processed": 10, "failed": 0}
    assert {item["engine"] for item in results} == {"lexicon-fallback"}
    # With the labels the lexicon engine gives the same rows
    lexicon_task = upload(client, "same.txt", lines(TEXTS), options={"engine": "lexicon"})
    poller.drain()
    assert [i["label"] for i in results] == [i["label"] for i in results_of(client, lexicon_task)]
    # And once the breaker opened, the third chunk sent nothing; no answer, nothing paid
    assert llm.stats().requests == 2
    assert task["usage"]["requests"] == 0 and task["usage"]["estimated_cost_usd"] == 0
    assert poller.failures == 0


def test_an_outage_with_the_fail_policy_ends_in_per_row_errors(client, poller, llm, configure):
    # Given the same outage, and the fail policy
    configure(LLM_FALLBACK="fail", LLM_MAX_RETRIES="0", LLM_BREAKER_FAILURES="2")
    llm.always = "status:503"

    # When a 10-row LLM batch runs
    task, results = run(client, poller, TEXTS)

    # Then the task still ends, ready, with every row a per-row llm-unavailable error
    assert_every_row_once(task, results, len(TEXTS))
    assert task["progress"] == {"total": 10, "processed": 0, "failed": 10}
    assert [item["error"]["code"] for item in results] == ["llm-unavailable"] * 10
    assert llm.stats().requests == 2
    assert poller.failures == 0


# ---------------------------------------------------------------- the result cache


def test_a_repeated_batch_is_answered_from_the_cache(client, poller, llm):
    # Given a batch that has been analysed once
    first, first_results = run(client, poller, TEXTS, aspects=["battery"])
    before = llm.stats()
    assert sum(before.item_counts) == len(TEXTS)

    # When the same tenant sends the same texts again
    second, second_results = run(client, poller, TEXTS, filename="again.txt", aspects=["battery"])

    # Then no request went to the LLM, and every item counts as cached at no cost
    assert llm.stats().requests == before.requests
    assert second["usage"] == {
        "requests": 0,
        "input_tokens": 0,
        "output_tokens": 0,
        "cached_items": len(TEXTS),
        "batch_requests": 0,
        "batch_input_tokens": 0,
        "batch_output_tokens": 0,
        "estimated_cost_usd": 0.0,
    }
    # And the results are the ones the LLM gave the first time, aspects included
    assert_every_row_once(second, second_results, len(TEXTS))
    strip = [{k: v for k, v in item.items() if k != "id"} for item in first_results]
    assert [{k: v for k, v in item.items() if k != "id"} for item in second_results] == strip


def test_the_cache_is_per_tenant(client, other_client, poller, llm):
    # Given acme's batch, analysed
    run(client, poller, TEXTS)
    llm.reset()

    # When globex sends the very same texts
    task, results = run(other_client, poller, TEXTS)

    # Then they were all sent to the LLM again: globex is never served acme's answers
    assert sorted(sent_texts(llm)) == sorted(TEXTS)
    assert task["usage"]["cached_items"] == 0 and task["usage"]["requests"] == len(chunk_sizes(10))
    assert_labelled_by_the_llm(results, TEXTS)


def test_a_half_repeated_batch_sends_only_the_new_half(client, poller, llm):
    # Given a batch of 10 analysed once
    run(client, poller, TEXTS)
    llm.reset()
    before = sentiment_items(llm)

    # When a batch of five of those and five new texts runs
    mixed = [text for pair in zip(TEXTS[:5], OTHER_TEXTS, strict=True) for text in pair]
    task, results = run(client, poller, mixed, filename="mixed.txt")

    # Then exactly the five new texts went to the LLM
    assert sentiment_items(llm) - before == len(OTHER_TEXTS)
    assert sorted(sent_texts(llm)) == sorted(OTHER_TEXTS)
    assert task["usage"]["cached_items"] == 5
    # And every row has its own text's label
    assert_every_row_once(task, results, len(mixed))
    assert_labelled_by_the_llm(results, mixed)


def test_texts_repeated_within_a_batch_are_sent_once(client, poller, llm):
    # Given a batch where each of five texts appears twice, in the same and in different chunks
    texts = OTHER_TEXTS + OTHER_TEXTS[::-1]
    # When it runs
    task, results = run(client, poller, texts)
    # Then each distinct text went to the LLM once, and all ten rows have their label
    assert sorted(sent_texts(llm)) == sorted(OTHER_TEXTS)
    assert task["usage"]["cached_items"] == len(texts) - len(OTHER_TEXTS)
    assert_labelled_by_the_llm(results, texts)


# ---------------------------------------------------------------- the API's answers


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/tasks", {"text": TEXTS[0], "options": LLM}),
        ("/v1/batches", {"filename": "r.csv", "options": {**LLM, "aspects": ["battery"], "report": True}}),
    ],
)
def test_the_llm_engine_without_a_key_is_refused(client, monkeypatch, path, body):
    # Given a deployment with no LLM key configured
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    # When a task asks for the llm engine
    response = client.call("POST", path, body)
    # Then a 400 problem says the engine is unavailable, and no task was created
    assert_problem(response, 400, "engine-unavailable")
    assert client.call("GET", "/v1/tasks").json()["items"] == []


INVALID_OPTIONS = [
    {"engine": "llm", "aspects": ["Battery", "battery"]},  # the same aspect twice
    {"engine": "llm", "aspects": [f"aspect {n}" for n in range(21)]},  # one too many
    {"engine": "gpt-4"},
    {"aspects": ["   "]},
    {"aspects": ["x" * 51]},
    {"report": "yes please"},
    {"engine": "llm", "temperature": 2},
]


def test_invalid_options_are_refused(client, llm):
    # Given a deployment where the llm engine is available, and options that are not valid
    for path, body in (("/v1/tasks", {"text": TEXTS[0]}), ("/v1/batches", {"filename": "r.csv"})):
        for options in INVALID_OPTIONS:
            # When a task is asked for with them
            response = client.call("POST", path, {**body, "options": options})
            # Then a 422 problem refuses it
            assert_problem(response, 422, "validation-error")
    # And no task was created
    assert client.call("GET", "/v1/tasks").json()["items"] == []


def test_twenty_distinct_aspects_are_accepted(client, llm):
    options = {"engine": "llm", "aspects": [f"aspect {n}" for n in range(20)]}
    response = client.call("POST", "/v1/batches", {"filename": "r.csv", "options": options})
    assert response.status == 201, response.body
    assert response.json()["task"]["options"] == {
        **options,
        "report": False,
        "min_confidence": None,
        **NO_INSIGHT_OPTIONS,
        **NO_BUDGET_OPTIONS,
        **NO_FILE_OPTIONS,
        **NO_MODEL_OPTIONS,
    }


def test_a_conversations_file_on_the_llm_engine(client, poller, llm, s3, bucket):
    # Given two chat conversations, one that turns sour and one that recovers
    conversations = [
        {
            "conversation_id": "c1",
            "messages": [
                {"role": "user", "content": TEXTS[0]},
                {"role": "assistant", "content": TEXTS[4]},
                {"role": "user", "content": TEXTS[5]},
            ],
        },
        {"conversation_id": "c2", "messages": [{"speaker": "customer", "text": t} for t in (TEXTS[1], TEXTS[6])]},
    ]
    body = json.dumps(conversations).encode()
    # When the file runs on the llm engine
    task_id = upload(client, "chats.json", body, options=LLM)
    poller.drain()
    task = client.call("GET", f"/v1/tasks/{task_id}").json()
    results = results_of(client, task_id)
    # Then every message was labelled by the LLM, with its place in its conversation
    texts = [m["content"] for m in conversations[0]["messages"]] + [TEXTS[1], TEXTS[6]]
    assert_every_row_once(task, results, 5)
    assert_labelled_by_the_llm(results, texts)
    assert [(r["conversation"]["conversation_id"], r["conversation"]["turn"]) for r in results] == [
        ("c1", 1), ("c1", 2), ("c1", 3), ("c2", 1), ("c2", 2),
    ]  # fmt: skip
    # And the conversations file summarises each from those messages' scores
    body = s3.get_object(Bucket=bucket, Key=f"results/acme/{task_id}/conversations.jsonl")["Body"].read().decode()
    summaries = [json.loads(line) for line in body.splitlines()]
    assert [s["conversation_id"] for s in summaries] == ["c1", "c2"]
    scores = [r["score"] for r in results]
    assert summaries[0]["speakers"]["user"]["mean_score"] == pytest.approx((scores[0] + scores[2]) / 2, abs=1e-4)
    assert summaries[1]["trajectory"]["change"] == pytest.approx(scores[4] - scores[3], abs=1e-4)
    assert task["summary"]["conversations"]["conversations"] == 2
