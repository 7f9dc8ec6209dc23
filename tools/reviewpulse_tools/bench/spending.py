"""`make bench BENCH=budget`: how far concurrent workers overshoot a budget (the quote's accuracy
is quote.py).

- budget: 8 workers in parallel, each an LLM analyzer with its own engine (4 requests in flight
  each) and a spend gate per chunk, as the LLM analyzer runs, against one task's max_cost_usd and
  then one tenant's monthly budget (DynamoDB under moto); what was spent against the budget, in
  units of one request's cost. Then Batch API mode: a batch-mode task through the real handlers
  on moto (the fake provider failing 5 % of requests and expiring its first batch part-way)
  against one tenant's monthly budget, in units of one provider batch's cost; and POST
  /v1/analyze: 8 callers at once, 25 texts each, against one tenant's monthly budget.
"""

from __future__ import annotations

import threading

from reviewpulse_tools.bench.samples import sample_reviews
from reviewpulse_tools.bench.stack import IN_PROCESS_ENVIRONMENT

WORKERS = 8
CHUNKS_PER_WORKER = 6
CHUNK_ITEMS = 40
ITEMS_PER_REQUEST = 10
FAKE_LATENCY_S = 0.05


# -- budget --------------------------------------------------------------------------------------


def bench_budget(chunks_per_worker: int = CHUNKS_PER_WORKER, batch_rows: int = 0) -> dict:
    """batch_rows: the Batch API part's rows (default BATCH_ROWS; the quick run's fewer still make
    three provider batches, so the budget stops the task part-way)."""
    import boto3
    from moto import mock_aws
    from reviewpulse.analysis.llm.pricing import Prices
    from reviewpulse.tasks.model import Task, TaskStatus, TaskType
    from reviewpulse.tasks.repository import TaskRepository
    from reviewpulse.tenants.budgets import BudgetRepository, month_of, to_micros
    from reviewpulse.usecases.spend import TaskSpend

    from reviewpulse_tools.bench.llm import _engine
    from reviewpulse_tools.doubles.fake_openai import FakeOpenAI

    prices = Prices(0.15, 0.60)
    tenant = "bench"
    samples = sample_reviews()
    runs = {}
    for kind in ("task max_cost_usd", "tenant monthly budget"):
        with mock_aws(), FakeOpenAI(latency=FAKE_LATENCY_S) as server:
            dynamodb = ItemAtomic(boto3.client("dynamodb", region_name="us-east-1"))
            _tables(dynamodb)
            tasks, budgets = TaskRepository("tasks", dynamodb), BudgetRepository("budgets", dynamodb)
            # About 40 requests' worth: a fraction of what the 8 workers would send.
            limit_usd = 0.02
            task = Task.new(tenant, TaskType.BATCH, TaskStatus.PROCESSING, ttl_days=1)
            tasks.create(task)
            if kind == "tenant monthly budget":
                budgets.set_monthly(tenant, limit_usd)
            in_flight = _InFlight()
            requests: list[int] = []

            def worker(number: int, task=task, kind=kind, limit_usd=limit_usd, tasks=tasks, budgets=budgets,
                       in_flight=in_flight, requests=requests) -> None:  # fmt: skip
                engine = _engine(server, llm_items_per_request=ITEMS_PER_REQUEST, llm_concurrency=4)
                for chunk in range(chunks_per_worker):
                    gate = in_flight.wrap(
                        TaskSpend(
                            tenant,
                            task.task_id,
                            task_limit_usd=limit_usd if kind == "task max_cost_usd" else None,
                            tasks=tasks,
                            budgets=budgets,
                            prices=prices,
                        ),
                        requests,
                    )
                    texts = {
                        str(i): f"{samples[(number * 97 + chunk * 13 + i) % len(samples)]} (w{number} c{chunk} {i})"
                        for i in range(CHUNK_ITEMS)
                    }
                    engine.analyze(texts, spend=gate)

            threads = [threading.Thread(target=worker, args=(n,)) for n in range(WORKERS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            final = tasks.get(tenant, task.task_id)
            month = budgets.month(tenant, month_of(task.created_at))
            spent = final.spend_settled_micros if kind == "task max_cost_usd" else month.settled_micros
            limit = to_micros(limit_usd)
            if not requests or not spent:
                raise RuntimeError(
                    f"{kind}: no request was paid for ({len(requests)} paid, {spent} micro-dollars spent)"
                )
            mean_request = sum(requests) / len(requests)
            runs[kind] = {
                "path": "synchronous",
                "workers": WORKERS,
                "limit_usd": limit_usd,
                "spent_usd": spent / 1_000_000,
                "overshoot_usd": max(0, spent - limit) / 1_000_000,
                "overshoot_requests": max(0, spent - limit) / mean_request,
                "one_request_usd": mean_request / 1_000_000,
                "largest_request_usd": max(requests) / 1_000_000,
                "requests_paid": len(requests),
                "requests_sent_by_server": server.stats().requests,
                "most_in_flight": in_flight.most,
                "left_reserved_usd": (final.spend_committed_micros - final.spend_settled_micros) / 1_000_000,
            }
    runs["Batch API mode, tenant monthly budget"] = bench_budget_batch_mode(batch_rows or BATCH_ROWS)
    runs["POST /v1/analyze, tenant monthly budget"] = bench_budget_analyze()
    return runs


BATCH_ROWS = 2_000
# Three of the collector's 200-item chunks, three provider batches: 4.8 CPU-s instead of 7.8.
QUICK_BATCH_ROWS = 600
BATCH_FAILURE_RATE = 0.05
BATCH_ITEMS_PER_REQUEST = 5
ANALYZE_CALLERS = 8
ANALYZE_CALLS_EACH = 6
ANALYZE_TEXTS = 25


def bench_budget_batch_mode(rows: int = BATCH_ROWS) -> dict:
    """A batch-mode llm task of `rows` distinct reviews through the real handlers on moto, the
    collector run until the task is ready, against a tenant monthly budget of half its quote."""
    import json
    import os

    import boto3
    import requests
    from moto import mock_aws
    from reviewpulse.analysis.llm.estimate import estimate_request
    from reviewpulse.analysis.llm.pricing import Prices
    from reviewpulse.analysis.llm.prompt import request_groups
    from reviewpulse.clock import now
    from reviewpulse.settings import get_settings
    from reviewpulse.tenants.budgets import BudgetRepository, month_of, to_micros
    from reviewpulse.tenants.keys import KeyRepository
    from reviewpulse.usecases.spend import cost_micros

    from reviewpulse_tools.doubles.fake_openai import FakeOpenAI
    from reviewpulse_tools.local.apigateway import ApiGateway
    from reviewpulse_tools.local.lambda_ import FunctionRunner
    from reviewpulse_tools.local.provision import provision
    from reviewpulse_tools.local.scheduler import scheduled_event
    from reviewpulse_tools.local.sqs import QueuePoller
    from reviewpulse_tools.local.template import load_template

    samples = sample_reviews()
    reviews = [f"{samples[n % len(samples)]} (budget #{n + 1})" for n in range(rows)]
    os.environ.update({**IN_PROCESS_ENVIRONMENT, "POWERTOOLS_METRICS_DISABLED": "true"})
    with mock_aws(), FakeOpenAI() as server:
        stack = provision(boto3.Session(), template=load_template())
        for function_id in stack.template.of_type("AWS::Serverless::Function"):
            os.environ.update(stack.function_environment(function_id))
        runner = FunctionRunner(stack)
        llm = {
            "OPENAI_API_KEY": "bench",
            "OPENAI_BASE_URL": server.base_url,
            "LLM_MODEL": "fake-sentiment-1",
            # Smaller requests than the default 25 texts: more of them to fail, and a finer cut.
            "LLM_ITEMS_PER_REQUEST": str(BATCH_ITEMS_PER_REQUEST),
        }
        os.environ.update(llm)
        runner.extra_environment.update(llm)
        get_settings.cache_clear()
        settings = get_settings()
        prices = Prices.of(settings)
        server.batches.configure({"failure_rate": BATCH_FAILURE_RATE, "expire": 1, "partial": 0.5})
        poller = QueuePoller(runner, boto3.client("sqs"))
        gateway = ApiGateway(runner)
        key, _ = KeyRepository(stack.ref("KeysTable"), boto3.client("dynamodb")).create("bench", "budget-bench")
        budgets = BudgetRepository(stack.ref("BudgetsTable"), boto3.client("dynamodb"))
        # Each chunk's round 0, one provider batch, as the collector groups and estimates it.
        chunk = settings.llm_chunk_max_items
        batches = []
        for start in range(0, rows, chunk):
            texts = {str(n): reviews[n] for n in range(start, min(rows, start + chunk))}
            batches.append(
                sum(
                    cost_micros(prices, e.input_tokens, e.output_tokens, batch=True)
                    for group in request_groups(texts, settings.llm_items_per_request)
                    for e in [estimate_request(list(group.values()), [], False)]
                )
            )
        limit = sum(batches) // 2
        budgets.set_monthly("bench", limit / 1_000_000)

        def call(method: str, path: str, body=None) -> dict:
            headers = {"Content-Type": "application/json", "X-Api-Key": key}
            return gateway.request(method, path, headers=headers, body=json.dumps(body) if body else None).json()

        created = call("POST", "/v1/batches", {"filename": "b.txt", "options": {"engine": "llm", "mode": "batch"}})
        task_id, post = created["task"]["task_id"], created["upload"]
        content = ("\n".join(reviews) + "\n").encode()
        requests.post(
            post["url"], data=post["fields"], files={"file": ("b.txt", content)}, timeout=120
        ).raise_for_status()
        poller.drain()
        task = call("GET", f"/v1/tasks/{task_id}")
        runs = 0
        while task["status"] not in ("ready", "error", "cancelled") and runs < 30:
            runner.invoke("CollectBatchesFunction", scheduled_event("CollectBatchesFunction"))
            runs += 1
            poller.drain()
            task = call("GET", f"/v1/tasks/{task_id}")
        month = budgets.month("bench", month_of(now()))
        stats = server.batches.snapshot()
    billed = to_micros(prices.cost_usd(stats.prompt_tokens, stats.completion_tokens, batch=True))
    spent = month.settled_micros
    rounds = len(task["llm_batch"]["batches"])
    checks = {
        "task ready": task["status"] == "ready",
        "every row answered once": sum(task["answered_by"].values()) == rows,
        "the month holds what the provider billed (a micro per round)": billed <= spent <= billed + rounds,
        "nothing left reserved": month.committed_micros == spent,
    }
    failed = [name for name, ok in checks.items() if not ok]
    if failed:
        raise AssertionError(f"budget benchmark, Batch API mode: these checks failed: {', '.join(failed)}")
    largest = max(batches)
    return {
        "path": "batch",
        "rows": rows,
        "limit_usd": limit / 1_000_000,
        "spent_usd": spent / 1_000_000,
        "overshoot_usd": max(0, spent - limit) / 1_000_000,
        "overshoot_batches": max(0, spent - limit) / largest,
        "one_batch_usd": largest / 1_000_000,
        "provider_batches": rounds,
        "requests_answered": stats.answered,
        "requests_failed": stats.failed,
        "requests_expired": stats.expired,
        "answered_by": task["answered_by"],
        "collector_runs": runs,
        "left_reserved_usd": (month.committed_micros - spent) / 1_000_000,
        "checks": checks,
    }


def bench_budget_analyze() -> dict:
    """ANALYZE_CALLERS callers at once, each making ANALYZE_CALLS_EACH POST /v1/analyze calls (the
    use case, llm engine, 4 requests in flight) of distinct texts, against a tenant's monthly
    budget of about a third of what they would cost."""
    import boto3
    from moto import mock_aws
    from reviewpulse.analysis.engines.base import EngineParts
    from reviewpulse.analysis.lexicon_analyzer import LexiconAnalyzer
    from reviewpulse.analysis.llm.pricing import Prices
    from reviewpulse.analysis.options import AnalysisOptions
    from reviewpulse.clock import now
    from reviewpulse.settings import Settings
    from reviewpulse.tenants.budgets import BudgetRepository, month_of, to_micros
    from reviewpulse.usecases.analyze_texts import AnalyzeNow, Answering, analyze_now

    from reviewpulse_tools.bench.llm import _engine
    from reviewpulse_tools.doubles.fake_openai import FakeOpenAI

    prices = Prices(0.15, 0.60)
    tenant = "bench"
    samples = sample_reviews()
    with mock_aws(), FakeOpenAI(latency=FAKE_LATENCY_S) as server:
        dynamodb = ItemAtomic(boto3.client("dynamodb", region_name="us-east-1"))
        _tables(dynamodb)
        budgets = BudgetRepository("budgets", dynamodb)
        settings = Settings(
            openai_api_key="bench",
            openai_base_url=server.base_url,
            llm_model="fake-sentiment-1",
            llm_input_price_per_million=prices.input_per_million,
            llm_output_price_per_million=prices.output_per_million,
            llm_items_per_request=5,
        )
        # A first call, with no budget, prices one call of 25 texts as the server counts it.
        engine = _engine(server, llm_items_per_request=5, llm_concurrency=4, llm_max_retries=5)
        parts = EngineParts(settings, lexicon=LexiconAnalyzer(), llm=lambda: engine)
        options = AnalysisOptions(engine="llm")
        probe_texts = [f"{t} (probe)" for t in samples[:ANALYZE_TEXTS]]
        probe = analyze_now(AnalyzeNow("probe", probe_texts, options), Answering(parts))
        one_call = to_micros(prices.usage_cost_usd(probe.usage))
        one_request = one_call / probe.usage.requests
        limit = ANALYZE_CALLERS * ANALYZE_CALLS_EACH * one_call // 3
        budgets.set_monthly(tenant, limit / 1_000_000)
        engines: list[str] = []
        lock = threading.Lock()

        def caller(number: int) -> None:
            for call in range(ANALYZE_CALLS_EACH):
                texts = [
                    f"{samples[(number * 31 + call * 7 + i) % len(samples)]} (c{number} k{call} {i})"
                    for i in range(ANALYZE_TEXTS)
                ]
                answered = analyze_now(AnalyzeNow(tenant, texts, options), Answering(parts, budgets=budgets))
                with lock:
                    # None: not answered in time, deferred to a task (which this bench does not run)
                    engines.extend([r.engine for r in answered.results] if answered else ["deferred"] * len(texts))

        threads = [threading.Thread(target=caller, args=(n,)) for n in range(ANALYZE_CALLERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        month = budgets.month(tenant, month_of(now()))
    spent = month.settled_micros
    return {
        "path": "analyze",
        "callers": ANALYZE_CALLERS,
        "limit_usd": limit / 1_000_000,
        "spent_usd": spent / 1_000_000,
        "overshoot_usd": max(0, spent - limit) / 1_000_000,
        "overshoot_requests": max(0, spent - limit) / one_request,
        "one_request_usd": one_request / 1_000_000,
        "texts": len(engines),
        "answered_by": {name: engines.count(name) for name in sorted(set(engines))},
        "left_reserved_usd": (month.committed_micros - spent) / 1_000_000,
    }


class ItemAtomic:
    """A DynamoDB client whose calls run one at a time. DynamoDB applies each UpdateItem atomically
    (its condition and its ADD together); moto's in-memory tables do not, against calls from other
    threads (here a concurrent ADD was lost). One at a time is what DynamoDB guarantees per item."""

    def __init__(self, client) -> None:
        self._client = client
        self._lock = threading.Lock()

    def __getattr__(self, name: str):
        call = getattr(self._client, name)

        def atomic(*args, **kwargs):
            with self._lock:
                return call(*args, **kwargs)

        return atomic


class _InFlight:
    """Counts reservations granted but not yet settled (requests in flight) across workers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.now = 0
        self.most = 0

    def wrap(self, gate, paid: list[int]):
        counter = self

        class Counted:
            exhausted = property(lambda self: gate.exhausted)

            def reserve(self, estimate):
                reservation = gate.reserve(estimate)
                if reservation is not None:
                    with counter._lock:
                        counter.now += 1
                        counter.most = max(counter.most, counter.now)
                return reservation

            def settle(self, reservation, input_tokens, output_tokens):
                from reviewpulse.tenants.budgets import to_micros

                gate.settle(reservation, input_tokens, output_tokens)
                with counter._lock:
                    counter.now -= 1
                    if input_tokens or output_tokens:
                        paid.append(to_micros(gate._prices.cost_usd(input_tokens, output_tokens)))

        return Counted()


def _tables(dynamodb) -> None:
    dynamodb.create_table(
        TableName="tasks",
        KeySchema=[{"AttributeName": "tenant", "KeyType": "HASH"}, {"AttributeName": "task_id", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "tenant", "AttributeType": "S"},
            {"AttributeName": "task_id", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.create_table(
        TableName="budgets",
        KeySchema=[{"AttributeName": "tenant", "KeyType": "HASH"}, {"AttributeName": "period", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "tenant", "AttributeType": "S"},
            {"AttributeName": "period", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


# -- report --------------------------------------------------------------------------------------


def report_budget(runs: dict) -> str:
    lines = [f"budget overshoot ({WORKERS} workers, 4 requests in flight each, fake latency {FAKE_LATENCY_S}s)"]
    for kind, run in runs.items():
        if run.get("path") == "batch":
            lines.append(
                f"  {kind:<40} limit ${run['limit_usd']:.6f} spent ${run['spent_usd']:.6f} "
                f"overshoot ${run['overshoot_usd']:.6f} = {run['overshoot_batches']:.2f} provider batches "
                f"(the largest ${run['one_batch_usd']:.6f}); {run['rows']} rows, {run['provider_batches']} provider "
                f"batches, requests answered/failed/expired {run['requests_answered']}/{run['requests_failed']}/"
                f"{run['requests_expired']}, answered by {run['answered_by']}, {run['collector_runs']} collector runs, "
                f"${run['left_reserved_usd']:.6f} left reserved"
            )
        elif run.get("path") == "analyze":
            lines.append(
                f"  {kind:<40} limit ${run['limit_usd']:.6f} spent ${run['spent_usd']:.6f} "
                f"overshoot ${run['overshoot_usd']:.6f} = {run['overshoot_requests']:.2f} requests "
                f"(one request ${run['one_request_usd']:.6f}); {run['callers']} callers, {run['texts']} texts "
                f"answered by {run['answered_by']}, ${run['left_reserved_usd']:.6f} left reserved"
            )
        else:
            lines.append(
                f"  {kind:<40} limit ${run['limit_usd']:.6f} spent ${run['spent_usd']:.6f} "
                f"overshoot ${run['overshoot_usd']:.6f} = {run['overshoot_requests']:.2f} requests "
                f"(one request ${run['one_request_usd']:.6f}, the largest ${run['largest_request_usd']:.6f}); "
                f"{run['requests_paid']} paid, most {run['most_in_flight']} in flight, "
                f"${run['left_reserved_usd']:.6f} left reserved"
            )
    return "\n".join(lines)
