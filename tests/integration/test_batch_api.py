"""Batch API mode through the API and the whole pipeline under moto: split → LLM work queue →
LlmAnalyzeChunkFunction (the chunk waits) → CollectBatchesFunction (submit, collect, resubmit, count) →
finalize, the provider being the fake OpenAI server's Files and Batch APIs.

Counting must stay exactly once whatever the provider and the collector do: every expectation on
usage is checked against what the fake itself answered (and so billed), not against a constant.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from reviewpulse.analysis.engines.base import EngineParts
from reviewpulse.analysis.lexicon_analyzer import LexiconAnalyzer
from reviewpulse.analysis.llm.pricing import Prices
from reviewpulse.clock import now
from reviewpulse.settings import get_settings
from reviewpulse.usecases.collect_batches import MAX_ROUNDS, Collector
from reviewpulse.usecases.sweep import sweep
from reviewpulse.wiring import batch_api, finalize_queue, provider_batches, result_files, task_repository
from reviewpulse_tools.doubles.fake_openai import FakeOpenAI

from tests.conftest import load_event
from tests.integration import test_llm_pipeline as llm_pipeline
from tests.integration.helpers import results_of, upload
from tests.integration.test_api import assert_problem
from tests.integration.test_llm_pipeline import (
    INPUT_PRICE,
    OUTPUT_PRICE,
    TEXTS,
    assert_every_row_once,
    assert_labelled_by_the_llm,
    lines,
)
from tests.integration.test_pii_pipeline import QUOTED_EMAIL, jsonl, leaked, seeded_documents, user_messages

# The LLM pipeline's fixtures: the fake server, the functions' environment, the llm configured.
fake, configure, llm = llm_pipeline.fake, llm_pipeline.configure, llm_pipeline.llm

BATCH = {"engine": "llm", "mode": "batch"}
# More texts than TEXTS, one per request: enough requests for a few of them to fail.
MANY = [f"{text} (review {n})" for n in range(4) for text in TEXTS]
TERMINAL = ("ready", "error", "cancelled")
HOUR = timedelta(hours=1)


class Killed(BaseException):
    """The collector's process dies: not an Exception, so no handler code can catch it."""


def collect(runner) -> dict:
    """One scheduled run of the collector, through its handler and the schedule's event."""
    return runner.invoke("CollectBatchesFunction", load_event("collect_batches.json"))


def collector(**overrides: Any) -> Collector:
    """The collector's use case with the deployment's collaborators, for runs a test controls."""
    settings = get_settings()
    return Collector(
        provider_batches=provider_batches(),
        tasks=task_repository(),
        result_files=result_files(),
        finalizer=finalize_queue(),
        api=batch_api(),
        parts=EngineParts(settings, lexicon=LexiconAnalyzer()),
        **overrides,
    )


def until_done(client, poller, runner, task_id: str, runs: int = 12) -> dict:
    """Collector runs (each followed by the queues) until the task ends."""
    for _ in range(runs):
        collect(runner)
        poller.drain()
        task = client.call("GET", f"/v1/tasks/{task_id}").json()
        if task["status"] in TERMINAL:
            return task
    raise AssertionError(f"task {task_id} did not end in {runs} collector runs: {task}")


def submit(client, poller, texts: list[str], **options: Any) -> str:
    task_id = upload(client, "reviews.txt", lines(texts), options={**BATCH, **options})
    poller.drain()  # split, then the LLM analyzer hands every chunk to the collector
    return task_id


def assert_billed_exactly_what_the_provider_answered(task: dict, server: FakeOpenAI) -> None:
    """Usage counts each answered request once (and only those), at the batch price."""
    stats = server.batches.snapshot()
    usage = task["usage"]
    assert (usage["batch_requests"], usage["batch_input_tokens"], usage["batch_output_tokens"]) == (
        stats.answered,
        stats.prompt_tokens,
        stats.completion_tokens,
    )
    prices = Prices(INPUT_PRICE, OUTPUT_PRICE)
    expected = prices.cost_usd(stats.prompt_tokens, stats.completion_tokens, batch=True)
    assert usage["estimated_cost_usd"] == pytest.approx(expected, abs=1e-6)
    assert expected == pytest.approx(prices.cost_usd(stats.prompt_tokens, stats.completion_tokens) / 2)


def answered_texts(server: FakeOpenAI) -> list[str]:
    return [text for request in server.batches.snapshot().texts for text in request]


# ---------------------------------------------------------------- the whole path


def test_a_batch_mode_task_is_answered_through_the_batch_api_at_the_batch_price(client, poller, runner, llm):
    # Given a 10-row llm file in batch mode, in chunks of 4
    task_id = submit(client, poller, TEXTS, aspects=["battery"])

    # When the chunks have been handed over, nothing has been asked synchronously
    waiting = client.call("GET", f"/v1/tasks/{task_id}").json()
    assert waiting["status"] == "queued" and llm.stats().requests == 0

    # When the collector runs until the task ends
    task = until_done(client, poller, runner, task_id)

    # Then every row is answered by the LLM exactly once, through the Batch API only
    results = results_of(client, task_id)
    assert_every_row_once(task, results, len(TEXTS))
    assert_labelled_by_the_llm(results, TEXTS)
    assert task["answered_by"] == {"llm": len(TEXTS)}
    assert llm.stats().requests == 0
    assert sorted(answered_texts(llm)) == sorted(TEXTS)
    # And the cost is the batch price of exactly what the provider answered
    assert_billed_exactly_what_the_provider_answered(task, llm)
    # And the task shows its provider batches: one per chunk, completed, with their request counts
    batches = task["llm_batch"]["batches"]
    assert [(b["chunk"], b["round"], b["status"]) for b in batches] == [(c, 0, "completed") for c in range(3)]
    assert all(b["request_counts"]["completed"] == b["request_counts"]["total"] > 0 for b in batches)
    assert task["options"]["mode"] == "batch"


def test_failed_requests_are_resubmitted_alone_and_every_row_counts_once(client, poller, runner, llm, configure):
    # Given one text per request and a provider that fails 5% of requests at random
    configure(LLM_ITEMS_PER_REQUEST="1")
    llm.batches.configure({"failure_rate": 0.05, "seed": 3})
    task_id = submit(client, poller, MANY)

    # When the collector runs until the task ends
    task = until_done(client, poller, runner, task_id)

    # Then some requests did fail (the premise), and were resubmitted in later rounds
    stats = llm.batches.snapshot()
    assert stats.failed > 0
    assert any(b["round"] > 0 for b in task["llm_batch"]["batches"])
    # And every row is answered by the LLM, once, each text answered (and paid for) once
    results = results_of(client, task_id)
    assert_every_row_once(task, results, len(MANY))
    assert task["answered_by"] == {"llm": len(MANY)}
    assert sorted(answered_texts(llm)) == sorted(MANY)
    assert stats.requests == stats.answered + stats.failed
    assert_billed_exactly_what_the_provider_answered(task, llm)


@pytest.mark.parametrize("plan", ["expire", "cancel"])
def test_a_batch_that_expires_or_is_cancelled_part_way_keeps_its_answers(client, poller, runner, llm, configure, plan):
    # Given a provider whose first batch expires (or is cancelled from its side) with 40% answered
    configure(LLM_ITEMS_PER_REQUEST="1", LLM_CHUNK_MAX_ITEMS="20")
    llm.batches.configure({plan: 1, "partial": 0.4})
    task_id = submit(client, poller, MANY[:20])

    # When the collector runs until the task ends
    task = until_done(client, poller, runner, task_id)

    # Then the first batch ended as the provider said, with part of its requests answered
    first = task["llm_batch"]["batches"][0]
    assert (first["round"], first["status"]) == (0, "expired" if plan == "expire" else "cancelled")
    assert first["request_counts"] == {"total": 20, "completed": 8, "failed": 12}
    # And only the 12 unanswered requests were sent again: no answer was paid for twice
    resubmitted = [b for b in task["llm_batch"]["batches"] if b["round"] == 1]
    assert [b["request_counts"]["total"] for b in resubmitted] == [12]
    assert sorted(answered_texts(llm)) == sorted(MANY[:20])
    assert_every_row_once(task, results_of(client, task_id), 20)
    assert task["answered_by"] == {"llm": 20}
    assert_billed_exactly_what_the_provider_answered(task, llm)


@pytest.mark.parametrize(("policy", "expected"), [("fail", "llm-unavailable"), ("lexicon", "lexicon-fallback")])
def test_rows_no_round_answers_follow_the_fallback_policy(client, poller, runner, llm, configure, policy, expected):
    # Given a provider that fails every request, and the deployment's fallback policy
    configure(LLM_FALLBACK=policy)
    llm.batches.configure({"failure_rate": 1.0})
    task_id = submit(client, poller, TEXTS[:4])

    # When the collector runs until the task ends
    task = until_done(client, poller, runner, task_id, runs=20)

    # Then the rows were asked in every round, then followed the policy; nothing was billed
    assert sorted({b["round"] for b in task["llm_batch"]["batches"]}) == list(range(MAX_ROUNDS))
    results = results_of(client, task_id)
    assert_every_row_once(task, results, 4)
    if policy == "fail":
        assert [item["error"]["code"] for item in results] == [expected] * 4
    else:
        assert {item["engine"] for item in results} == {expected}
    assert task["usage"]["batch_requests"] == task["usage"]["requests"] == 0


def test_a_task_cancelled_by_its_owner_cancels_its_provider_batches(client, poller, runner, llm):
    # Given a batch-mode task whose provider batches are still running
    llm.batches.configure({"delay": 3600})
    task_id = submit(client, poller, TEXTS)
    collect(runner)  # submits
    collect(runner)  # sees them running
    running = client.call("GET", f"/v1/tasks/{task_id}").json()["llm_batch"]["batches"]
    assert {b["status"] for b in running} == {"in_progress"} and len(running) == 3

    # When its owner cancels it, and the collector runs (twice)
    assert client.call("DELETE", f"/v1/tasks/{task_id}").status in (200, 202, 204)
    collect(runner)
    collect(runner)

    # Then every provider batch was cancelled once, nothing was counted, and the task is off the
    # collector's list
    assert llm.batches.snapshot().cancels == 3
    task = client.call("GET", f"/v1/tasks/{task_id}").json()
    assert task["status"] == "cancelled" and task["progress"]["processed"] == 0
    assert all(provider_batches().open_tasks(f"s{n}") == [] for n in range(8))


# ---------------------------------------------------------------- exactly once


def test_duplicated_and_concurrent_collector_runs_count_exactly_once(client, poller, runner, llm):
    # Given a batch-mode task whose batches are submitted and answered
    task_id = submit(client, poller, TEXTS)
    collect(runner)  # submits round 0 of each chunk

    # When a second collector runs in full while the first is between recording a batch's answers
    # and counting them (its clock far ahead, as if the first one's lease had run out, so both
    # really work; interleaved by the first one's hook: moto's conditional writes are not atomic
    # across threads, DynamoDB's are), and then more runs follow one after the other
    second = collector(clock=lambda: 4_000_000_000.0)
    interleaved: list[int] = []

    def run_the_second(task, chunk: int, number: int) -> None:
        if not interleaved:
            interleaved.append(chunk)
            second.run()

    first = collector(after_recording=run_the_second)
    first.run()
    assert interleaved
    poller.drain()
    task = until_done(client, poller, runner, task_id)
    collector().run()
    poller.drain()

    # Then every row counted once, each answer billed once, and the task finalized once
    task = client.call("GET", f"/v1/tasks/{task_id}").json()
    assert_every_row_once(task, results_of(client, task_id), len(TEXTS))
    assert task["answered_by"] == {"llm": len(TEXTS)}
    assert llm.batches.snapshot().batches == 3  # no round was submitted twice
    assert_billed_exactly_what_the_provider_answered(task, llm)


def test_a_crash_between_recording_the_answers_and_counting_them_counts_once(client, poller, runner, llm):
    # Given a batch-mode task whose batches are answered
    task_id = submit(client, poller, TEXTS)
    collect(runner)

    # When a collector dies (a kill: nothing of it can catch that) right after recording the
    # first finished batch's answers
    def crash(task, chunk: int, number: int) -> None:
        raise Killed("the collector died here")

    with pytest.raises(Killed, match="died here"):
        collector(after_recording=crash, clock=lambda: 4_000_000_000.0).run()
    assert client.call("GET", f"/v1/tasks/{task_id}").json()["progress"]["processed"] == 0

    # And the next scheduled runs carry on (its lease taken over once it has run out)
    collector(clock=lambda: 5_000_000_000.0).run()
    poller.drain()
    task = until_done(client, poller, runner, task_id)

    # Then every row counted once, and nothing asked or billed twice
    assert_every_row_once(task, results_of(client, task_id), len(TEXTS))
    assert llm.batches.snapshot().batches == 3
    assert_billed_exactly_what_the_provider_answered(task, llm)


def test_no_seeded_personal_data_reaches_the_batch_api(client, poller, runner, llm):
    # Given reviews and chats holding personal data of every kind, one quoting an e-mail address
    texts, values = seeded_documents()

    # When they run in batch mode with an aspect
    task_id = upload(client, "reviews.jsonl", jsonl(texts), id_field="id", options={**BATCH, "aspects": ["support"]})
    poller.drain()
    task = until_done(client, poller, runner, task_id)

    # Then every row was answered by the LLM, and no seeded value is in any file uploaded to it
    results = results_of(client, task_id)
    assert_every_row_once(task, results, len(texts))
    assert task["answered_by"] == {"llm": len(texts)}
    uploads = llm.batches.snapshot().uploads
    assert uploads and leaked(uploads, values) == set()
    # And what was sent carries the placeholders, and a redacted quote comes back as the original
    lines_sent = [json.loads(line) for upload_ in uploads for line in upload_.splitlines() if line]
    sent = user_messages([json.dumps(line["body"]) for line in lines_sent])
    assert "[EMAIL_1]" in sent
    quoted = next(item for item in results if item["id"] == f"r{len(texts)}")
    support = next(a for a in quoted["aspects"] if a["aspect"] == "support")
    assert support["evidence"] == f"The support team never answered {QUOTED_EMAIL} at all."


def test_a_batch_mode_task_allowed_to_send_texts_unredacted_sends_and_checks_them_as_written(
    client, poller, runner, llm, configure
):
    # Given a deployment with AllowUnredactedLlm=true and a batch-mode task asking for redact_pii false,
    # one of whose texts is quoted back as the evidence of its aspect
    configure(ALLOW_UNREDACTED_LLM="true")
    texts, values = seeded_documents(8)

    # When it runs through the Batch API
    options = {**BATCH, "aspects": ["support"], "redact_pii": False}
    task_id = upload(client, "reviews.jsonl", jsonl(texts), id_field="id", options=options)
    poller.drain()
    task = until_done(client, poller, runner, task_id)

    # Then the request lines carried the texts as written (the task's redact_pii, as the answers are
    # checked with), not placeholders
    results = results_of(client, task_id)
    assert_every_row_once(task, results, len(texts))
    assert task["options"]["redact_pii"] is False
    uploads = llm.batches.snapshot().uploads
    assert leaked(uploads, values) == values
    sent = user_messages([json.dumps(json.loads(line)["body"]) for up in uploads for line in up.splitlines() if line])
    assert "[EMAIL_1]" not in sent
    # And the answer was checked against the texts as sent: the quote of the text holding an e-mail
    # address is kept (checked against a redacted text, it would not be verbatim and be dropped)
    quoted = next(item for item in results if item["id"] == f"r{len(texts)}")
    support = next(a for a in quoted["aspects"] if a["aspect"] == "support")
    assert support["evidence"] and support["evidence"] in texts[-1]


def test_a_task_that_cannot_be_collected_holds_back_no_other_and_still_ends(client, poller, runner, llm, s3, bucket):
    # Given two batch-mode tasks, one of which has lost a waiting chunk (its object deleted)
    healthy = submit(client, poller, TEXTS)
    broken = submit(client, poller, TEXTS[:3])
    s3.delete_object(Bucket=bucket, Key=f"results/acme/{broken}/batch-api/chunk-000000.json")

    # When the collector runs
    outcome = collector().run()
    task = until_done(client, poller, runner, healthy)

    # Then the broken task failed alone and the healthy one finished
    assert outcome.failed == 1 and task["status"] == "ready"
    assert client.call("GET", f"/v1/tasks/{broken}").json()["status"] == "queued"
    # And since nothing moves the broken task any more, the sweeper ends it as stalled
    later = sweep(task_repository(), now=now() + timedelta(hours=6), upload_deadline=HOUR, stall_deadline=HOUR)
    assert later.ended == [("acme", broken, "stalled")]


# ---------------------------------------------------------------- choosing the mode


def test_batch_mode_on_an_engine_without_an_llm_is_a_problem(client, llm):
    response = client.call("POST", "/v1/tasks", {"text": "Fine", "options": {"engine": "lexicon", "mode": "batch"}})
    assert_problem(response, 400, "batch-mode-unavailable")


def test_a_large_file_goes_to_the_batch_api_when_the_deployment_says_so(client, poller, runner, llm, configure):
    # Given a deployment that sends llm files of at least 8 items to the Batch API
    configure(LLM_BATCH_MIN_ITEMS="8")

    # When a 10-row and a 5-row file name no mode
    large = upload(client, "large.txt", lines(TEXTS), options={"engine": "llm"})
    small = upload(client, "small.txt", lines(TEXTS[:5]), options={"engine": "llm"})
    poller.drain()

    # Then the small one was answered synchronously, the large one waits for the Batch API
    assert client.call("GET", f"/v1/tasks/{small}").json()["status"] == "ready"
    waiting = client.call("GET", f"/v1/tasks/{large}").json()
    assert waiting["options"]["mode"] == "batch" and any("Batch API" in note for note in waiting["notes"])
    task = until_done(client, poller, runner, large)
    assert_every_row_once(task, results_of(client, large), len(TEXTS))
    assert task["usage"]["batch_requests"] == llm.batches.snapshot().answered > 0
