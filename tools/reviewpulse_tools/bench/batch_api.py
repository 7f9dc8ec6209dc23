"""Batch API mode end to end (`make bench BENCH=batchapi`): a 10,000-review llm task in batch mode
through the real handlers on moto, the provider being the fake OpenAI server's Files and Batch APIs
with 5% of requests failing and the first batch expiring part-way (half of its requests answered).

It checks what must hold exactly (every row once, the counts, every billed answer counted once, no
fallback) and reports the figures: provider batches and rounds, requests answered, failed, expired
and resubmitted, collector runs, tokens and the cost at the batch price against the synchronous one.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

from reviewpulse_tools.bench.samples import sample_reviews
from reviewpulse_tools.bench.stack import IN_PROCESS_ENVIRONMENT

ROWS = 10_000
FAILURE_RATE = 0.05
EXPIRED_SHARE_ANSWERED = 0.5
MAX_COLLECTOR_RUNS = 30


def bench_batch_api(rows: int = ROWS) -> dict[str, Any]:
    import os

    import boto3
    import requests
    from moto import mock_aws
    from reviewpulse.analysis.llm.pricing import Prices
    from reviewpulse.settings import get_settings

    from reviewpulse_tools.doubles.fake_openai import FakeOpenAI
    from reviewpulse_tools.local.apigateway import ApiGateway
    from reviewpulse_tools.local.lambda_ import FunctionRunner
    from reviewpulse_tools.local.provision import provision
    from reviewpulse_tools.local.scheduler import scheduled_event
    from reviewpulse_tools.local.sqs import QueuePoller
    from reviewpulse_tools.local.template import load_template

    texts = sample_reviews()
    # Distinct texts (the sample's, numbered), so that "every row once" can be checked by text too.
    reviews = [f"{texts[n % len(texts)]} (#{n + 1})" for n in range(rows)]
    content = ("\n".join(reviews) + "\n").encode()
    os.environ.update(IN_PROCESS_ENVIRONMENT)
    with mock_aws(), FakeOpenAI() as server:
        stack = provision(boto3.Session(), template=load_template())
        for function_id in stack.template.of_type("AWS::Serverless::Function"):
            os.environ.update(stack.function_environment(function_id))
        runner = FunctionRunner(stack)
        llm = {
            "OPENAI_API_KEY": "bench",
            "OPENAI_BASE_URL": server.base_url,
            "LLM_MODEL": "fake-sentiment-1",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
        os.environ.update(llm)
        runner.extra_environment.update(llm)
        get_settings.cache_clear()
        server.batches.configure({"failure_rate": FAILURE_RATE, "expire": 1, "partial": EXPIRED_SHARE_ANSWERED})
        poller = QueuePoller(runner, boto3.client("sqs"))
        gateway = ApiGateway(runner)
        from reviewpulse.tenants.keys import KeyRepository

        key, _ = KeyRepository(stack.ref("KeysTable"), boto3.client("dynamodb")).create("bench", "usage-bench")
        headers = {"Content-Type": "application/json", "X-Api-Key": key}

        def call(method: str, path: str, body: Any = None) -> dict:
            response = gateway.request(method, path, headers=headers, body=json.dumps(body) if body else None)
            return response.json()

        started = time.perf_counter()
        created = call("POST", "/v1/batches", {"filename": "bench.txt", "options": {"engine": "llm", "mode": "batch"}})
        task_id = created["task"]["task_id"]
        post = created["upload"]
        uploaded = requests.post(post["url"], data=post["fields"], files={"file": ("bench.txt", content)}, timeout=120)
        uploaded.raise_for_status()
        poller.drain()
        handed_over = time.perf_counter() - started
        runs = 0
        task = call("GET", f"/v1/tasks/{task_id}")
        while task["status"] not in ("ready", "error", "cancelled") and runs < MAX_COLLECTOR_RUNS:
            runner.invoke("CollectBatchesFunction", scheduled_event("CollectBatchesFunction"))
            runs += 1
            poller.drain()
            task = call("GET", f"/v1/tasks/{task_id}")
        elapsed = time.perf_counter() - started
        body = boto3.client("s3").get_object(
            Bucket=stack.ref("DataBucket"), Key=f"results/bench/{task_id}/results.jsonl"
        )
        results = [json.loads(line) for line in body["Body"].read().decode().splitlines() if line]
        stats = server.batches.snapshot()
        chat_requests = server.stats().requests
    prices = Prices.of(get_settings())
    usage = task["usage"]
    rounds = Counter(batch["round"] for batch in task["llm_batch"]["batches"])
    statuses = Counter(batch["status"] for batch in task["llm_batch"]["batches"])
    checks = {
        "task ready": task["status"] == "ready",
        "total = processed + failed = rows": task["progress"]["total"]
        == task["progress"]["processed"] + task["progress"]["failed"]
        == rows,
        "every row once, in order": [r["row"] for r in results] == list(range(1, rows + 1)),
        "every id once": sorted(r["id"] for r in results) == sorted(str(n) for n in range(1, rows + 1)),
        "every row answered by the LLM (no fallback)": task["answered_by"] == {"llm": rows},
        "each answered request counted once": (
            usage["batch_requests"],
            usage["batch_input_tokens"],
            usage["batch_output_tokens"],
        )
        == (stats.answered, stats.prompt_tokens, stats.completion_tokens),
        "each text answered once (no answer paid for twice)": sorted(t for ts in stats.texts for t in ts)
        == sorted(reviews),
        "no synchronous request": chat_requests == 0,
    }
    failed = [name for name, ok in checks.items() if not ok]
    if failed:
        raise AssertionError(f"Batch API mode benchmark: these checks failed: {', '.join(failed)}")
    return {
        "rows": rows,
        "checks": checks,
        "collector_runs": runs,
        "handed_over_s": handed_over,
        "elapsed_s": elapsed,
        "provider_batches": sum(rounds.values()),
        "by_round": {str(k): v for k, v in sorted(rounds.items())},
        "by_status": dict(statuses),
        "requests": stats.requests,
        "answered": stats.answered,
        "failed": stats.failed,
        "expired": stats.expired,
        "input_tokens": usage["input_tokens"],
        "output_tokens": usage["output_tokens"],
        "cost_usd": usage["estimated_cost_usd"],
        "sync_cost_usd": prices.cost_usd(usage["input_tokens"], usage["output_tokens"]),
        "batch_cost_usd": prices.cost_usd(usage["input_tokens"], usage["output_tokens"], batch=True),
    }


def report(figures: dict[str, Any]) -> list[str]:
    f = figures
    checks = ", ".join(f"{name}: {'yes' if ok else 'NO'}" for name, ok in f["checks"].items())
    return [
        f"**Batch API mode, {f['rows']:,} reviews end to end** (`make bench BENCH=batchapi`: the real handlers on moto,"
        f" the fake server's Batch API failing {FAILURE_RATE:.0%} of requests at random and expiring the first batch"
        f" with {EXPIRED_SHARE_ANSWERED:.0%} of it answered):",
        "",
        "| figure | value |",
        "|---|---|",
        f"| checks | {checks} |",
        f"| provider batches (by round) | {f['provider_batches']} ({', '.join(f'round {k}: {v}' for k, v in f['by_round'].items())}) |",
        f"| batch statuses | {', '.join(f'{k} {v}' for k, v in f['by_status'].items())} |",
        f"| requests run / answered / failed / expired | {f['requests']} / {f['answered']} / {f['failed']} / {f['expired']} |",
        f"| collector runs until ready | {f['collector_runs']} |",
        f"| tokens in / out | {f['input_tokens']:,} / {f['output_tokens']:,} |",
        f"| cost shown | ${f['cost_usd']:.4f} (batch price; ${f['sync_cost_usd']:.4f} synchronous) |",
        f"| upload → chunks handed over; → ready | {f['handed_over_s']:.1f} s; {f['elapsed_s']:.1f} s (no batch delay) |",
        "",
    ]
