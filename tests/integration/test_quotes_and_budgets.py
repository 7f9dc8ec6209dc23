"""Quotes before spending and budgets that hold (issue 13, parts 2 and 3), through the API and the
whole pipeline under moto, the LLM being the fake OpenAI server (which counts tokens its own way).
"""

from __future__ import annotations

import threading
from datetime import timedelta

import boto3
import pytest
from reviewpulse.analysis.llm.estimate import TokenEstimate
from reviewpulse.analysis.llm.pricing import Prices
from reviewpulse.clock import now
from reviewpulse.storage.layout import paused_prefix
from reviewpulse.tasks.model import Task, TaskStatus, TaskType
from reviewpulse.tasks.repository import TaskRepository
from reviewpulse.tenants.budgets import BudgetRepository, to_micros
from reviewpulse.usecases.spend import TaskSpend
from reviewpulse.usecases.sweep import sweep
from reviewpulse.wiring import task_repository
from reviewpulse_tools.bench.spending import ItemAtomic

from tests.integration import test_llm_pipeline
from tests.integration.helpers import results_of, upload
from tests.integration.test_api import assert_problem
from tests.integration.test_llm_pipeline import (
    CHUNK_ITEMS,
    INPUT_PRICE,
    OUTPUT_PRICE,
    TEXTS,
    assert_every_row_once,
    lines,
    sentiment_items,
)

# The LLM pipeline's fixtures: the fake server configured as the deployment's LLM.
fake, configure, llm = test_llm_pipeline.fake, test_llm_pipeline.configure, test_llm_pipeline.llm

LLM = {"engine": "llm"}
PRICES = Prices(INPUT_PRICE, OUTPUT_PRICE)
HOUR = timedelta(hours=1)


def task_of(client, task_id: str) -> dict:
    return client.call("GET", f"/v1/tasks/{task_id}").json()


def within(reported: int, quoted: int, share: float = 0.10) -> bool:
    return abs(quoted - reported) <= share * reported


# ---------------------------------------------------------------- quotes


def test_a_quoted_batch_waits_then_starts_on_the_same_file_and_costs_what_it_was_quoted(client, poller, llm):
    # Given a 10-row file asking only for a quote on the llm engine
    task_id = upload(client, "reviews.txt", lines(TEXTS), options={**LLM, "quote_only": True, "aspects": ["price"]})

    # When the pipeline runs
    poller.drain()

    # Then the task waits as quoted, priced, and the LLM was not asked anything
    quoted = task_of(client, task_id)
    assert quoted["status"] == "quoted", quoted
    quote = quoted["quote"]
    chunks = -(-len(TEXTS) // CHUNK_ITEMS)
    assert (quote["items"], quote["llm_items"], quote["requests"]) == (len(TEXTS), len(TEXTS), chunks)
    assert quote["estimated_cost_usd"] == pytest.approx(
        PRICES.cost_usd(quote["input_tokens"], quote["output_tokens"]), abs=1e-6
    )
    assert llm.stats().requests == 0
    assert quoted["progress"]["processed"] == 0
    # And however long it waits for its owner, the sweeper leaves it alone
    assert (
        sweep(task_repository(), now=now() + timedelta(days=3), upload_deadline=HOUR, stall_deadline=HOUR).ended == []
    )

    # When its owner starts it, twice (a retry)
    started = client.call("POST", f"/v1/tasks/{task_id}/start")
    again = client.call("POST", f"/v1/tasks/{task_id}/start")
    poller.drain()

    # Then it ran once on the file it was quoted on: every row once, by the LLM
    assert started.status == 200 and started.json()["status"] == "queued", started.body
    assert again.status == 200
    task = task_of(client, task_id)
    results = results_of(client, task_id)
    assert_every_row_once(task, results, len(TEXTS))
    assert task["answered_by"] == {"llm": len(TEXTS)} and sentiment_items(llm) == len(TEXTS)
    # And the usage the server reported is within 10% of the quote, request for request
    stats = llm.stats()
    assert stats.requests == quote["requests"]
    assert within(stats.prompt_tokens, quote["input_tokens"]), (stats.prompt_tokens, quote)
    assert within(stats.completion_tokens, quote["output_tokens"]), (stats.completion_tokens, quote)
    # And what it spent is what the reported usage costs, with nothing left reserved
    assert task["budget"]["spent_usd"] == pytest.approx(task["usage"]["estimated_cost_usd"], abs=1e-5)
    assert task["budget"]["reserved_usd"] == 0
    # And a started task answers a later start as it is
    assert client.call("POST", f"/v1/tasks/{task_id}/start").json()["status"] == "ready"


def test_an_auto_quote_counts_the_items_its_router_will_send(client, poller, llm):
    # Given an auto batch, quoted: some reviews the lexicon is sure of, some it is not
    texts = [*TEXTS, "It came on Tuesday.", "The box is blue.", "I love it, works great"]
    task_id = upload(client, "auto.txt", lines(texts), options={"engine": "auto", "quote_only": True})
    poller.drain()
    quote = task_of(client, task_id)["quote"]

    # When it is started and runs
    client.call("POST", f"/v1/tasks/{task_id}/start")
    poller.drain()

    # Then exactly the items the quote expected went to the LLM, and the rest to the lexicon
    task = task_of(client, task_id)
    assert task["status"] == "ready"
    assert 0 < quote["llm_items"] < len(texts)
    assert task["answered_by"].get("llm", 0) == quote["llm_items"] == sentiment_items(llm)
    assert task["answered_by"].get("lexicon", 0) == len(texts) - quote["llm_items"]


def test_a_batch_mode_quote_is_priced_as_the_batch_api_bills_it(client, poller, llm):
    # Given the same file quoted twice on the llm engine: synchronous, and through the Batch API
    sync_id = upload(client, "sync.txt", lines(TEXTS), options={**LLM, "quote_only": True})
    batch_id = upload(client, "batch.txt", lines(TEXTS), options={**LLM, "quote_only": True, "mode": "batch"})

    # When both are counted and priced
    poller.drain()
    sync_quote, batch_quote = (task_of(client, t)["quote"] for t in (sync_id, batch_id))

    # Then they count the same requests and tokens, and the batch one costs what the task's shown
    # cost will be (Prices.usage_cost_usd: Batch API tokens at the batch price), half the other
    assert {k: v for k, v in sync_quote.items() if k != "estimated_cost_usd"} == {
        k: v for k, v in batch_quote.items() if k != "estimated_cost_usd"
    }
    batch_cost = PRICES.cost_usd(batch_quote["input_tokens"], batch_quote["output_tokens"], batch=True)
    assert batch_quote["estimated_cost_usd"] == pytest.approx(batch_cost, abs=1e-6)
    assert batch_quote["estimated_cost_usd"] < sync_quote["estimated_cost_usd"]
    assert llm.stats().requests == 0


def test_starting_a_task_that_was_not_quoted_is_a_conflict(client, poller, llm):
    # Given an ordinary batch, finished
    task_id = upload(client, "plain.txt", lines(TEXTS[:2]), options=LLM)
    poller.drain()
    # When it is started, Then 409 task-not-quoted; an unknown task is 404
    assert_problem(client.call("POST", f"/v1/tasks/{task_id}/start"), 409, "task-not-quoted")
    assert_problem(client.call("POST", f"/v1/tasks/{'0' * 28}/start"), 404, "not-found")
    # And a text task cannot ask for a quote
    text = client.call("POST", "/v1/tasks", {"text": "fine", "options": {**LLM, "quote_only": True}})
    assert_problem(text, 422, "validation-error")


# ---------------------------------------------------------------- budgets


def one_request_usd(texts: list[str], aspects: list[str] = ()) -> float:
    """The estimated cost of one request of these texts, as the gate reserves it."""
    from reviewpulse.analysis.llm.estimate import estimate_request

    estimate = estimate_request(texts, aspects, False)
    return PRICES.cost_usd(estimate.input_tokens, estimate.output_tokens)


def test_when_the_task_budget_runs_out_the_lexicon_answers_the_rest_and_says_so(client, poller, llm):
    # Given a budget for about two of the file's three requests (chunks of four)
    budget = 2.5 * one_request_usd(TEXTS[:CHUNK_ITEMS])
    task_id = upload(client, "capped.txt", lines(TEXTS), options={**LLM, "max_cost_usd": round(budget, 6)})

    # When the pipeline runs
    poller.drain()

    # Then every row is answered once: by the LLM while the budget lasted, then by the lexicon
    task = task_of(client, task_id)
    results = results_of(client, task_id)
    assert_every_row_once(task, results, len(TEXTS))
    by = task["answered_by"]
    assert by.get("llm", 0) > 0 and by.get("lexicon-budget", 0) > 0 and sum(by.values()) == len(TEXTS)
    assert {item["engine"] for item in results} == {"llm", "lexicon-budget"}
    assert by["llm"] == sentiment_items(llm)
    # And the task says why, and shows what it spent against its budget
    assert [w["code"] for w in task["warnings"]] == ["budget-exhausted"]
    assert task["budget"]["max_cost_usd"] == pytest.approx(budget, abs=1e-6)
    assert 0 < task["budget"]["spent_usd"] <= budget + one_request_usd(TEXTS[:CHUNK_ITEMS])
    assert task["budget"]["spent_usd"] == pytest.approx(task["usage"]["estimated_cost_usd"], abs=1e-5)
    assert task["budget"]["reserved_usd"] == 0


def test_a_paused_task_waits_for_its_budget_and_resumes_without_losing_or_repeating_an_item(
    client, poller, llm, configure, s3, bucket, stack
):
    # Given two requests per chunk, a tenant whose monthly budget covers about one and a half of
    # them (so a chunk is cut part-way: one of its requests paid, the other refused), and a batch
    # that pauses
    configure(LLM_ITEMS_PER_REQUEST="2")
    budgets = BudgetRepository(stack.ref("BudgetsTable"), boto3.client("dynamodb"))
    budgets.set_monthly("acme", 1.5 * one_request_usd(TEXTS[:2]))
    task_id = upload(client, "paused.txt", lines(TEXTS), options={**LLM, "on_budget_exhausted": "pause"})

    # When the pipeline runs
    poller.drain()

    # Then the task waits as paused, saying which budget ran out, with its other chunks kept
    task = task_of(client, task_id)
    assert task["status"] == "paused", task
    assert "monthly budget" in task["paused_reason"]
    kept = s3.list_objects_v2(Bucket=bucket, Prefix=paused_prefix("acme", task_id)).get("KeyCount", 0)
    assert kept >= 1
    assert task["progress"]["processed"] + kept * CHUNK_ITEMS >= len(TEXTS)
    # And the sweeper leaves it alone however long it waits
    assert (
        sweep(
            task_repository(),
            now=now() + timedelta(days=3),
            upload_deadline=timedelta(hours=1),
            stall_deadline=timedelta(hours=1),
        ).ended
        == []
    )

    # When it is resumed while the budget is still spent, Then 409, and nothing changes
    assert_problem(client.call("POST", f"/v1/tasks/{task_id}/resume"), 409, "budget-exhausted")
    assert task_of(client, task_id)["status"] == "paused"

    # When the budget is raised and the task resumed
    budgets.set_monthly("acme", 100.0)
    resumed = client.call("POST", f"/v1/tasks/{task_id}/resume")
    assert resumed.status == 200 and resumed.json()["status"] == "processing", resumed.body
    poller.drain()

    # Then it finishes with every row once, all by the LLM, and no text was paid for twice: the
    # answers paid for in the chunk cut part-way came from the result cache
    task = task_of(client, task_id)
    results = results_of(client, task_id)
    assert_every_row_once(task, results, len(TEXTS))
    assert task["answered_by"] == {"llm": len(TEXTS)}
    assert sentiment_items(llm) == len(TEXTS)
    assert s3.list_objects_v2(Bucket=bucket, Prefix=paused_prefix("acme", task_id)).get("KeyCount", 0) == 0
    # And resuming a task that is not paused is a conflict
    assert_problem(client.call("POST", f"/v1/tasks/{task_id}/resume"), 409, "task-not-paused")


def test_a_task_paused_by_its_own_budget_resumes_with_a_higher_one(client, poller, llm):
    # Given a task whose own budget covers about one request, pausing
    budget = round(1.5 * one_request_usd(TEXTS[:CHUNK_ITEMS]), 6)
    options = {**LLM, "max_cost_usd": budget, "on_budget_exhausted": "pause"}
    task_id = upload(client, "own.txt", lines(TEXTS), options=options)
    poller.drain()
    assert task_of(client, task_id)["status"] == "paused"
    # When resumed without more room, Then 409; with a higher max_cost_usd, it finishes
    assert_problem(client.call("POST", f"/v1/tasks/{task_id}/resume"), 409, "budget-exhausted")
    resumed = client.call("POST", f"/v1/tasks/{task_id}/resume", {"max_cost_usd": 10.0})
    assert resumed.status == 200, resumed.body
    poller.drain()
    task = task_of(client, task_id)
    assert task["status"] == "ready" and task["answered_by"] == {"llm": len(TEXTS)}
    assert task["budget"]["max_cost_usd"] == 10.0


def test_concurrent_reservations_never_overshoot_by_more_than_the_requests_in_flight(stack):
    # Given a task with a tiny budget, a tenant with none, and 8 workers sharing its spend gate,
    # each request costing 20% more than its estimate (the estimate is not exact)
    # (DynamoDB applies each conditional ADD atomically; moto's tables do not against other
    # threads, so the client serializes calls as DynamoDB serializes updates of one item.)
    dynamodb = ItemAtomic(boto3.client("dynamodb"))
    tasks = TaskRepository(stack.ref("TasksTable"), dynamodb)
    budgets = BudgetRepository(stack.ref("BudgetsTable"), dynamodb)
    task = Task.new("acme", TaskType.BATCH, TaskStatus.PROCESSING, ttl_days=1)
    assert tasks.create(task)
    estimate = TokenEstimate(1, 1_000, 200)
    actual = (1_200, 240)
    request_micros = to_micros(PRICES.cost_usd(*actual))
    limit_usd = 0.05
    workers = 8
    gate = TaskSpend("acme", task.task_id, task_limit_usd=limit_usd, tasks=tasks, budgets=budgets, prices=PRICES)
    granted = []
    start = threading.Barrier(workers)

    def worker() -> None:
        start.wait()
        while (reservation := gate.reserve(estimate)) is not None:
            granted.append(reservation)
            gate.settle(reservation, *actual)

    # When they reserve and settle until the budget refuses them
    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then the spend is what the granted requests cost, and it passes the budget by at most what
    # the requests in flight cost beyond their estimates
    final = tasks.get("acme", task.task_id)
    assert final is not None and granted
    assert final.spend_settled_micros == len(granted) * request_micros
    overshoot_bound = workers * (request_micros - to_micros(PRICES.cost_usd(1_000, 200)))
    assert final.spend_settled_micros <= to_micros(limit_usd) + overshoot_bound
    # And the budget was used, not refused early: one more request would not have fit
    assert final.spend_committed_micros == final.spend_settled_micros
    assert final.spend_settled_micros + request_micros > to_micros(limit_usd)
    assert gate.exhausted is not None and "task" in gate.exhausted
    # And the tenant's month saw the same spend
    assert budgets.month("acme", now().strftime("%Y-%m")).settled_micros == final.spend_settled_micros
