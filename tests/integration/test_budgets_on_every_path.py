"""Budgets that hold on every path (issue 27): Batch API mode and POST /v1/analyze reserve and
settle against the same budgets as a task's synchronous requests, through the API and the whole
pipeline under moto, the provider being the fake OpenAI server (its Files and Batch APIs too).

Every expectation on spend is checked against what the fake itself answered (and so billed),
priced by the project's one pricing function, never against a constant.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from reviewpulse.analysis.engines.base import EngineParts
from reviewpulse.analysis.lexicon_analyzer import LexiconAnalyzer
from reviewpulse.analysis.llm.estimate import estimate_request
from reviewpulse.analysis.llm.pricing import Prices
from reviewpulse.clock import now
from reviewpulse.settings import get_settings
from reviewpulse.tenants.budgets import BudgetRepository, MonthSpend, month_of, to_micros
from reviewpulse.usecases.collect_batches import Collector
from reviewpulse.usecases.spend import ALERT_PERCENT, BatchSpend, cost_micros
from reviewpulse.wiring import batch_api, finalize_queue, provider_batches, result_files, task_repository
from reviewpulse_tools.doubles.fake_openai import FakeOpenAI

from tests.integration import test_llm_pipeline as llm_pipeline
from tests.integration.helpers import results_of, upload
from tests.integration.test_api import assert_problem
from tests.integration.test_batch_api import BATCH, MANY, Killed, answered_texts, collect, until_done
from tests.integration.test_llm_pipeline import CHUNK_ITEMS, INPUT_PRICE, OUTPUT_PRICE, TEXTS, lines

# The LLM pipeline's fixtures: the fake server, the functions' environment, the llm configured.
fake, configure, llm = llm_pipeline.fake, llm_pipeline.configure, llm_pipeline.llm

PRICES = Prices(INPUT_PRICE, OUTPUT_PRICE)
TENANT = "acme"
# One text per request, and one request at a time: DynamoDB applies each conditional ADD of a
# budget atomically, moto's in-memory tables do not against other threads (a concurrent ADD can be
# lost), so the synchronous engine's parallel requests are serialized here. The concurrent case is
# test_quotes_and_budgets' (a client that serializes calls, as DynamoDB serializes one item's).
ONE_AT_A_TIME = {"LLM_ITEMS_PER_REQUEST": "1", "LLM_CONCURRENCY": "1"}


@pytest.fixture
def budgets(stack) -> BudgetRepository:
    return BudgetRepository(stack.ref("BudgetsTable"), boto3.client("dynamodb"))


def this_month(budgets: BudgetRepository) -> MonthSpend:
    return budgets.month(TENANT, month_of(now()))


def request_micros(texts: list[str], *, batch: bool) -> int:
    """One request of these texts, as the reservation estimates it."""
    estimate = estimate_request(texts, [], False)
    return cost_micros(PRICES, estimate.input_tokens, estimate.output_tokens, batch=batch)


def chunk_batch_micros(texts: list[str]) -> int:
    """One chunk's provider batch at one text per request (LLM_ITEMS_PER_REQUEST=1), estimated."""
    return sum(request_micros([text], batch=True) for text in texts)


def largest_batch_micros(texts: list[str]) -> int:
    return max(chunk_batch_micros(texts[n : n + CHUNK_ITEMS]) for n in range(0, len(texts), CHUNK_ITEMS))


def provider_billed_micros(server: FakeOpenAI) -> int:
    """What the provider's Batch API answered, at the batch price."""
    stats = server.batches.snapshot()
    return to_micros(PRICES.cost_usd(stats.prompt_tokens, stats.completion_tokens, batch=True))


def percents_sent(out: str) -> list[float]:
    """MonthlyBudgetUsedPercent as the functions sent it (their EMF lines, on this process's
    stdout), in the namespace and with the dimension the alarm watches."""
    values: list[float] = []
    for line in out.splitlines():
        if '"MonthlyBudgetUsedPercent"' not in line:
            continue
        try:
            document = json.loads(line)
        except ValueError:
            continue
        directives = document["_aws"]["CloudWatchMetrics"]
        if any(d["Namespace"] == "ReviewPulse" for d in directives) and document.get("service") == "reviewpulse":
            value = document["MonthlyBudgetUsedPercent"]
            values += value if isinstance(value, list) else [value]
    return values


def rounds_of(task: dict) -> int:
    return len(task["llm_batch"]["batches"])


def submit(client, poller, texts: list[str], **options: Any) -> str:
    task_id = upload(client, "reviews.txt", lines(texts), options={**BATCH, **options})
    poller.drain()
    return task_id


def collector_with_budgets(budgets: BudgetRepository, **overrides: Any) -> Collector:
    """The collector's use case as its handler wires it, for runs a test controls."""
    settings = get_settings()
    tasks, records = task_repository(), provider_batches()
    wired: dict[str, Any] = {
        "provider_batches": records,
        "tasks": tasks,
        "result_files": result_files(),
        "finalizer": finalize_queue(),
        "api": batch_api(),
        "parts": EngineParts(settings, lexicon=LexiconAnalyzer()),
        "spend": BatchSpend(tasks=tasks, budgets=budgets, provider_batches=records, prices=PRICES),
    }
    return Collector(**{**wired, **overrides})


def assert_settled_exactly(month: MonthSpend, billed_micros: int, rounds: int) -> None:
    """Nothing left reserved, and the month holds what was billed (each round is priced on its
    own, rounded up to the micro: at most one micro per round apart)."""
    assert month.committed_micros == month.settled_micros
    assert billed_micros <= month.settled_micros <= billed_micros + rounds


# ---------------------------------------------------------------- Batch API mode


def test_a_tenant_budget_exhausted_by_a_batch_mode_task_holds_with_failed_and_expired_requests(
    client, poller, runner, llm, configure, budgets, capsys
):
    # Given one text per request, a provider that fails a fifth of the requests and expires its
    # first batch half-answered, and a tenant whose monthly budget covers about half the file
    configure(**ONE_AT_A_TIME)
    llm.batches.configure({"failure_rate": 0.2, "seed": 5, "expire": 1, "partial": 0.5})
    limit = chunk_batch_micros(MANY) // 2
    budgets.set_monthly(TENANT, limit / 1_000_000)
    capsys.readouterr()

    # When a batch-mode task of the file runs until it ends
    task_id = submit(client, poller, MANY)
    task = until_done(client, poller, runner, task_id, runs=20)

    # Then the provider did fail and expire requests (the premise), and nothing was lost
    stats = llm.batches.snapshot()
    assert stats.failed > 0 and stats.expired > 0
    results = results_of(client, task_id)
    assert [item["row"] for item in results] == list(range(1, len(MANY) + 1))
    by = task["answered_by"]
    assert by.get("llm", 0) > 0 and by.get("lexicon-budget", 0) > 0 and sum(by.values()) == len(MANY)
    assert [w["code"] for w in task["warnings"]] == ["budget-exhausted"]
    # And the month holds exactly what the provider billed, its failed and expired requests
    # released, the task's own counters agreeing, with no reservation left over
    month = this_month(budgets)
    assert_settled_exactly(month, provider_billed_micros(llm), rounds_of(task))
    assert task["budget"]["spent_usd"] == pytest.approx(month.settled_micros / 1_000_000, abs=1e-6)
    assert task["budget"]["reserved_usd"] == 0
    assert task["usage"]["estimated_cost_usd"] == pytest.approx(month.settled_micros / 1_000_000, abs=1e-5)
    # And it passed the budget by at most one provider batch's cost (stated bound; reservations
    # never do, only the estimate's error can)
    assert month.settled_micros <= limit + largest_batch_micros(MANY)
    # And the collector's settlements sent the alarm's metric: the month's share, past its 80 %
    sent = percents_sent(capsys.readouterr().out)
    assert sent and max(sent) == pytest.approx(100.0 * month.settled_micros / limit, abs=0.01)
    assert max(sent) >= ALERT_PERCENT


def test_a_batch_mode_task_pauses_at_its_budget_and_resumes_without_asking_a_text_twice(
    client, poller, runner, llm, configure, budgets
):
    # Given one text per request and a monthly budget for about one and a half chunks' batches
    configure(**ONE_AT_A_TIME)
    budgets.set_monthly(TENANT, 1.5 * chunk_batch_micros(TEXTS[:CHUNK_ITEMS]) / 1_000_000)
    task_id = submit(client, poller, TEXTS, on_budget_exhausted="pause")

    # When the collector runs (the rounds that fitted are submitted, then collected)
    for _ in range(3):
        collect(runner)
        poller.drain()

    # Then the task waits as paused, naming the budget; only what fitted was asked
    task = client.call("GET", f"/v1/tasks/{task_id}").json()
    assert task["status"] == "paused", task
    assert "monthly budget" in task["paused_reason"]
    asked = answered_texts(llm)
    assert 0 < len(asked) < len(TEXTS)
    month = this_month(budgets)
    assert month.committed_micros == month.settled_micros == provider_billed_micros(llm)
    # And what was reserved for them fitted the budget: settling at what the provider billed passes
    # it only by what they cost beyond their estimates (the fake counts tokens its own way)
    assert sum(request_micros([text], batch=True) for text in asked) <= month.limit_micros
    # And resuming while the budget is spent is a conflict
    assert_problem(client.call("POST", f"/v1/tasks/{task_id}/resume"), 409, "budget-exhausted")

    # When the budget is raised and the task resumed, and the collector runs on
    budgets.set_monthly(TENANT, 100.0)
    assert client.call("POST", f"/v1/tasks/{task_id}/resume").status == 200
    task = until_done(client, poller, runner, task_id)

    # Then every row is answered by the LLM, each text asked once, and the month holds what it cost
    assert task["status"] == "ready" and task["answered_by"] == {"llm": len(TEXTS)}
    assert sorted(answered_texts(llm)) == sorted(TEXTS)
    assert_settled_exactly(this_month(budgets), provider_billed_micros(llm), rounds_of(task))


@pytest.mark.parametrize("crash", ["before-submitting", "before-settling"])
def test_a_collector_that_dies_mid_round_counts_nothing_twice(client, poller, runner, llm, configure, budgets, crash):
    # Given a batch-mode task, a budget, and a provider failing some requests (so rounds resubmit)
    configure(**ONE_AT_A_TIME)
    llm.batches.configure({"failure_rate": 0.3, "seed": 2})
    budgets.set_monthly(TENANT, 10.0)
    task_id = submit(client, poller, TEXTS)

    # When a collector dies right after reserving a round (before the provider sees it), or right
    # after recording a finished round's answers (before settling them), and the next runs carry on
    class DiesOnSubmit:
        def __init__(self, api) -> None:
            self._api = api

        def submit(self, lines, metadata):
            raise Killed("the collector died here")

        def __getattr__(self, name: str):
            return getattr(self._api, name)

    def dies(task, chunk: int, number: int) -> None:
        raise Killed("the collector died here")

    if crash == "before-submitting":
        dying = collector_with_budgets(budgets, api=DiesOnSubmit(batch_api()))
    else:
        collect(runner)  # submits round 0
        dying = collector_with_budgets(budgets, after_recording=dies)
    with pytest.raises(Killed, match="died here"):
        dying.run()
    collector_with_budgets(budgets, clock=lambda: 4_000_000_000.0).run()  # its lease taken over
    poller.drain()
    task = until_done(client, poller, runner, task_id)

    # Then every row is answered once, and the month holds exactly what the provider billed: no
    # round reserved or settled twice, nothing left reserved
    assert task["answered_by"] == {"llm": len(TEXTS)}
    assert llm.batches.snapshot().failed > 0 and any(b["round"] > 0 for b in task["llm_batch"]["batches"])
    assert sorted(answered_texts(llm)) == sorted(TEXTS)
    assert_settled_exactly(this_month(budgets), provider_billed_micros(llm), rounds_of(task))
    assert task["budget"]["spent_usd"] == pytest.approx(this_month(budgets).settled_micros / 1_000_000, abs=1e-6)


# ---------------------------------------------------------------- POST /v1/analyze


def analyze(client, texts: list[str]) -> dict:
    response = client.call("POST", "/v1/analyze", {"texts": texts, "options": {"engine": "llm"}})
    assert response.status == 200, response.body
    return response.json()


def usage_micros(answers: list[dict]) -> int:
    """What the responses' usage cost at the synchronous price."""
    return sum(to_micros(PRICES.cost_usd(a["usage"]["input_tokens"], a["usage"]["output_tokens"])) for a in answers)


def test_analyze_calls_exhaust_the_tenant_budget_and_the_lexicon_answers_the_rest(
    client, llm, configure, budgets, capsys
):
    # Given one text per request and a monthly budget for about five requests
    configure(**ONE_AT_A_TIME)
    texts = [f"{text} (call {n})" for n in range(3) for text in TEXTS[:4]]
    one_request = max(request_micros([text], batch=False) for text in texts)
    limit = 5 * one_request + one_request // 2
    budgets.set_monthly(TENANT, limit / 1_000_000)
    capsys.readouterr()

    # When three calls of four texts each ask the llm engine
    answers = [analyze(client, texts[n : n + 4]) for n in range(0, len(texts), 4)]

    # Then every text is answered at once: by the LLM while the budget lasted, then by the lexicon,
    # named lexicon-budget (which never gives mixed)
    engines = [result["engine"] for answer in answers for result in answer["results"]]
    assert len(engines) == len(texts) and set(engines) == {"llm", "lexicon-budget"}
    assert engines.count("llm") == sum(answer["usage"]["requests"] for answer in answers)
    for result in (r for a in answers for r in a["results"] if r["engine"] == "lexicon-budget"):
        assert result["probabilities"]["mixed"] == 0
    # And the month holds what the answers cost, nothing left reserved, past the budget by at
    # most one request's cost
    month = this_month(budgets)
    assert month.committed_micros == month.settled_micros
    requests = sum(answer["usage"]["requests"] for answer in answers)
    assert abs(month.settled_micros - usage_micros(answers)) <= requests + len(answers)
    assert month.settled_micros <= limit + one_request
    # And the API function sent the alarm's metric: the month's share, past its 80 %
    sent = percents_sent(capsys.readouterr().out)
    assert sent and max(sent) == pytest.approx(100.0 * month.settled_micros / limit, abs=0.01)
    assert max(sent) >= ALERT_PERCENT


# ---------------------------------------------------------------- every path at once


def test_one_monthly_budget_holds_across_synchronous_batch_mode_and_analyze_spend(
    client, poller, runner, llm, configure, budgets
):
    # Given one text per request and a monthly budget for about a third of what a synchronous
    # task, a batch-mode task and a few /v1/analyze calls would cost
    configure(**ONE_AT_A_TIME)
    sync_texts = [f"{text} (sync)" for text in TEXTS]
    batch_texts = [f"{text} (batch)" for text in TEXTS]
    analyze_texts = [f"{text} (analyze {n})" for n in range(2) for text in TEXTS[:4]]
    full = sum(request_micros([t], batch=False) for t in sync_texts + analyze_texts) + chunk_batch_micros(batch_texts)
    limit = full // 3
    budgets.set_monthly(TENANT, limit / 1_000_000)
    one_request = max(request_micros([t], batch=False) for t in sync_texts + analyze_texts)

    # When a batch-mode task is handed over (its provider failing some requests, which a later
    # round asks again), a synchronous task runs, /v1/analyze calls come in, and the collector
    # runs, interleaved
    llm.batches.configure({"failure_rate": 0.3, "seed": 2})
    batch_id = submit(client, poller, batch_texts)
    answers = [analyze(client, analyze_texts[:4])]
    sync_id = upload(client, "sync.txt", lines(sync_texts), options={"engine": "llm"})
    collect(runner)
    poller.drain()
    answers.append(analyze(client, analyze_texts[4:]))
    batch_task = until_done(client, poller, runner, batch_id)
    sync_task = client.call("GET", f"/v1/tasks/{sync_id}").json()

    # Then both tasks ended
    assert batch_task["status"] == sync_task["status"] == "ready"
    month = this_month(budgets)
    # And the month is exactly the sum of what each path spent, nothing left reserved
    assert month.committed_micros == month.settled_micros
    tasks_micros = to_micros(batch_task["budget"]["spent_usd"]) + to_micros(sync_task["budget"]["spent_usd"])
    analyze_requests = sum(answer["usage"]["requests"] for answer in answers)
    assert abs(month.settled_micros - tasks_micros - usage_micros(answers)) <= analyze_requests + 4
    # And the budget held: past it by at most one provider batch's or one request's cost
    assert month.settled_micros <= limit + max(largest_batch_micros(batch_texts), one_request)
    used = {
        "batch": batch_task["answered_by"].get("lexicon-budget", 0),
        "sync": sync_task["answered_by"].get("lexicon-budget", 0),
        "analyze": sum(r["engine"] == "lexicon-budget" for a in answers for r in a["results"]),
    }
    # And each path ran into the one budget the others were spending: each had texts the lexicon
    # answered because the budget had no room left
    assert all(used.values()), used
