"""`make bench BENCH=cost`: what a million reviews cost, by engine, priced from a measured run.

A batch of reviews of 300 characters runs through the local stack once per engine (lexicon; auto
and llm against the fake OpenAI server, whose token counts are exact). What the run used is
recorded as it happens and then priced from one table (prices/aws-us-east-1.toml, or the file
COST_PRICES names):

- Lambda: each function's invocations and its billed duration. The local stack measures each
  invocation's CPU seconds on this machine (one core). Lambda gives a function a share of a vCPU
  in proportion to its memory (one vCPU at 1,769 MB), so a single-threaded handler needs
  cpu / min(1, memory / 1769) seconds there; to that is added what it waits for, which the local
  stack cannot show: each AWS call at [latency] aws_call_s and each LLM request at llm_request_s
  divided among the engine's concurrent requests; plus up to 1 ms rounding per invocation.
  GB-seconds = billed seconds × memory / 1024, at the architecture's price.
- Requests: every AWS call the functions made (recorded in their environments, in the units AWS
  bills: SQS per 64 KB, DynamoDB batches per item), DynamoDB units scaled by the task item's
  size, the event source mappings' receives and deletes that carried messages, the client's
  upload (one S3 POST) and its API requests (create, one status request, the result pages).
- Storage: the task's objects in S3 until their lifecycle rule deletes them (uploads 7 days,
  results TASK_TTL_DAYS), the task item in DynamoDB until its TTL.
- LLM tokens: the task's reported usage at the configured prices, synchronous and Batch API.

Scaled linearly to a million reviews (in files the size of the measured batch), next to Amazon
Comprehend's, Azure's and Google's list prices for the same texts. The arithmetic is
price_run(); tests/unit/test_cost_model.py holds it on a small recorded run.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import random
import time
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from reviewpulse_tools.bench.samples import sample_reviews

PRICES = Path(__file__).with_name("prices") / "aws-us-east-1.toml"
REVIEW_CHARS = 300
MILLION = 1_000_000
ENGINES = ("lexicon", "auto", "llm")
FULL_ROWS = 5_000
QUICK_ROWS = 100

# How each recorded call is billed: the price class of each service:Operation.
DYNAMODB_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
DYNAMODB_READS = {"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}
DYNAMODB_PER_ITEM = {"BatchWriteItem", "BatchGetItem"}
S3_PUT_CLASS = {
    "PutObject",
    "CopyObject",
    "PostObject",
    "ListObjects",
    "ListObjectsV2",
    "CreateMultipartUpload",
    "UploadPart",
    "UploadPartCopy",
    "CompleteMultipartUpload",
}
S3_FREE = {"DeleteObject", "DeleteObjects", "AbortMultipartUpload", "CreateBucket"}
# s3:CreateBucket: botocore builds one to sign a presigned POST; nothing is sent.


def load_prices(path: str | Path | None = None) -> dict[str, Any]:
    return tomllib.loads(Path(path or os.environ.get("COST_PRICES") or PRICES).read_text())


@dataclass
class FunctionUse:
    invocations: int
    cpu_s: float
    memory_mb: int
    aws_calls: int = 0
    llm_requests: int = 0  # the LLM requests this function waited for
    llm_concurrency: int = 1  # how many of them it had in flight at once


@dataclass
class RecordedRun:
    """What one engine's batch used, as recorded on the local stack (or written by hand in a test)."""

    engine: str
    reviews: int
    functions: dict[str, FunctionUse]
    requests: dict[str, int]  # "service:Operation" → billed units
    api_requests: int
    stored_bytes: dict[str, int]  # retention days (as a string) → bytes held that long
    task_item_bytes: int
    input_tokens: int = 0
    output_tokens: int = 0
    llm_answered: int = 0
    review_chars: float = REVIEW_CHARS
    extra: dict[str, Any] = field(default_factory=dict)


def lambda_seconds(use: FunctionUse, prices: dict[str, Any]) -> float:
    """Billed seconds: CPU at the memory's vCPU share, the waits, and the rounding to 1 ms."""
    share = min(1.0, use.memory_mb / prices["lambda"]["mb_per_vcpu"])
    waits = use.aws_calls * prices["latency"]["aws_call_s"]
    waits += use.llm_requests * prices["latency"]["llm_request_s"] / max(1, use.llm_concurrency)
    return use.cpu_s / share + waits + use.invocations * 0.001


def price_run(run: RecordedRun, prices: dict[str, Any], architecture: str = "x86_64") -> dict[str, Any]:
    """The run's cost in line items (US dollars for the run), per review and per million reviews."""
    lam, ddb, s3 = prices["lambda"], prices["dynamodb"], prices["s3"]
    items: dict[str, float] = {}
    unpriced: dict[str, int] = {}
    gb_seconds = sum(lambda_seconds(u, prices) * u.memory_mb / 1024 for u in run.functions.values())
    invocations = sum(u.invocations for u in run.functions.values())
    items["Lambda compute (GB-s)"] = gb_seconds * lam["gb_second"][architecture]
    items["Lambda requests"] = invocations * lam["per_million_requests"] / MILLION
    items["X-Ray traces"] = invocations * prices["xray"]["per_million_traces"] / MILLION
    items["API Gateway requests"] = run.api_requests * prices["api_gateway"]["per_million_requests"] / MILLION
    write_units = math.ceil(run.task_item_bytes / 1024) or 1
    read_units = math.ceil(run.task_item_bytes / 4096) or 1
    for name in (
        "DynamoDB writes",
        "DynamoDB reads",
        "SQS requests",
        "S3 PUT/POST/LIST",
        "S3 GET",
        "EventBridge",
        "Secrets Manager",
    ):
        items[name] = 0.0
    for call, units in sorted(run.requests.items()):
        service, operation = call.split(":", 1)
        # Single-item calls at the task item's size (the largest item the pipeline writes: an upper
        # bound for the others); batch calls (the result cache, items well under 1 KB) a unit per item.
        single = operation not in DYNAMODB_PER_ITEM
        if service == "dynamodb" and operation in DYNAMODB_WRITES:
            units *= write_units if single else 1
            items["DynamoDB writes"] += units * ddb["per_million_write_units"] / MILLION
        elif service == "dynamodb" and operation in DYNAMODB_READS:
            units *= read_units if single else 1
            items["DynamoDB reads"] += units * ddb["per_million_read_units"] / MILLION
        elif service == "sqs":
            items["SQS requests"] += units * prices["sqs"]["per_million_requests"] / MILLION
        elif service == "s3" and operation in S3_PUT_CLASS:
            items["S3 PUT/POST/LIST"] += units * s3["per_thousand_put"] / 1000
        elif service == "s3" and operation in S3_FREE:
            pass
        elif service == "s3":
            items["S3 GET"] += units * s3["per_thousand_get"] / 1000
        elif service == "events":
            items["EventBridge"] += units * prices["eventbridge"]["per_million_events"] / MILLION
        elif service == "secretsmanager":
            items["Secrets Manager"] += units * prices["secretsmanager"]["per_ten_thousand_calls"] / 10_000
        else:
            unpriced[call] = units
    gb_months = sum(size / 1024**3 * int(days) / 30 for days, size in run.stored_bytes.items())
    items["S3 storage until lifecycle expiry"] = gb_months * s3["gb_month"]
    ttl_days = max((int(days) for days in run.stored_bytes), default=30)
    items["DynamoDB storage (task item until TTL)"] = run.task_item_bytes / 1024**3 * ttl_days / 30 * ddb["gb_month"]
    infrastructure = sum(items.values())
    llm_prices = prices.get("llm", {})
    per_input, per_output = llm_prices["input_per_million"], llm_prices["output_per_million"]
    sync = (run.input_tokens * per_input + run.output_tokens * per_output) / MILLION
    batch_factor = llm_prices.get("batch_factor", 0.5)
    total = infrastructure + sync
    scale = MILLION / run.reviews
    return {
        "engine": run.engine,
        "reviews": run.reviews,
        "architecture": architecture,
        "line_items_usd": items,
        "infrastructure_usd": infrastructure,
        "llm_sync_usd": sync,
        "llm_batch_usd": sync * batch_factor,
        "total_usd": total,
        "per_million_usd": {
            **{name: cost * scale for name, cost in items.items()},
            "LLM tokens (synchronous)": sync * scale,
            "LLM tokens (Batch API)": sync * batch_factor * scale,
            "infrastructure": infrastructure * scale,
            "all-in, synchronous LLM": total * scale,
            "all-in, Batch API LLM": (infrastructure + sync * batch_factor) * scale,
        },
        "llm_share": run.llm_answered / run.reviews,
        "gb_seconds": gb_seconds,
        "invocations": invocations,
        "unpriced_calls": unpriced,
    }


def comparison_per_million(prices: dict[str, Any], chars: float = REVIEW_CHARS) -> dict[str, float]:
    """Other services' list prices for a million texts of `chars` characters."""
    c = prices["comparison"]
    units = max(c["comprehend_min_units"], math.ceil(chars / c["comprehend_unit_chars"]))
    return {
        "Amazon Comprehend": MILLION * units * c["comprehend_per_unit"],
        "Azure AI Language": MILLION
        * math.ceil(chars / c["azure_record_chars"])
        * c["azure_per_thousand_records"]
        / 1000,
        "Google Natural Language": MILLION
        * math.ceil(chars / c["google_unit_chars"])
        * c["google_per_thousand_units"]
        / 1000,
    }


# -- the measured run --------------------------------------------------------------------------


def reviews_of(chars: int, count: int, seed: int = 11) -> list[str]:
    """`count` distinct reviews of exactly `chars` characters, cut from the sample reviews."""
    samples = sample_reviews()
    rng = random.Random(seed)  # noqa: S311 (reproducible sample data)
    out = []
    for n in range(count):
        text = f"#{n + 1} "
        while len(text) < chars:
            text += rng.choice(samples) + " "
        out.append(text[:chars].rstrip().ljust(chars, "."))
    return out


def bench_cost(rows: int = FULL_ROWS, running=None, engines: tuple[str, ...] = ENGINES) -> dict[str, Any]:
    from reviewpulse_tools.bench.stack import bench_stack, start_shared_stack

    prices = load_prices()
    runs = []
    with bench_stack(running) if running is not None else _own(start_shared_stack) as running:
        for n, engine in enumerate(engines):
            texts = [f"{t[:-4]} [{n}]" if engine != "lexicon" else t for t in reviews_of(REVIEW_CHARS, rows, seed=n)]
            runs.append(record_run(running, engine, texts))
    llm_prices = _llm_prices(prices)
    priced = {}
    for run in runs:
        table = {**prices, "llm": llm_prices}
        priced[run.engine] = {arch: price_run(run, table, arch) for arch in ("x86_64", "arm64")}
    return {
        "prices": {"region": prices["region"], "date": prices["date"], "llm": llm_prices},
        "rows": rows,
        "review_chars": REVIEW_CHARS,
        "runs": [asdict(run) for run in runs],
        "priced": priced,
        "comparison": comparison_per_million(prices),
    }


class _own:
    def __init__(self, starter) -> None:
        self._starter = starter

    def __enter__(self):
        self._running = self._starter()
        return self._running

    def __exit__(self, *exc):
        self._running.stop()


def _llm_prices(prices: dict[str, Any]) -> dict[str, float]:
    from reviewpulse.analysis.llm.pricing import BATCH_PRICE_FACTOR
    from reviewpulse.settings import Settings

    defaults = Settings.model_fields
    table = prices.get("llm", {})
    return {
        "input_per_million": table.get("input_per_million", defaults["llm_input_price_per_million"].default),
        "output_per_million": table.get("output_per_million", defaults["llm_output_price_per_million"].default),
        "batch_factor": table.get("batch_factor", BATCH_PRICE_FACTOR),
    }


def record_run(running, engine: str, texts: list[str]) -> RecordedRun:
    """One batch of `texts` on `engine` through the running stack, with what it used recorded."""
    import boto3
    import httpx
    from reviewpulse.settings import Settings
    from reviewpulse.tasks.repository import TaskRepository

    runner, poller = running.runner, running.poller
    mapping: dict[str, int] = {"sqs:ReceiveMessage": 0, "sqs:DeleteMessageBatch": 0}
    original_poll = poller.poll_once

    def counted_poll(trigger, wait_seconds=0):
        handled = original_poll(trigger, wait_seconds)
        if handled:  # an empty long poll is the mapping's fixed cost, not this batch's
            mapping["sqs:ReceiveMessage"] += 1
            mapping["sqs:DeleteMessageBatch"] += 1
        return handled

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["review_id", "review"])
    writer.writerows([f"R{i + 1:07d}", text] for i, text in enumerate(texts))
    content = out.getvalue().encode()
    tasks = TaskRepository(running.stack.ref("TasksTable"), boto3.client("dynamodb"))
    api_requests = 0
    with httpx.Client(base_url=running.api_url, headers={"X-Api-Key": running.api_key}, timeout=120) as api:
        # Warm every function of this engine's path first, as a deployed stack's would be.
        _run(api, tasks, running.tenant, _csv(texts[:10], "W"), engine)
        before = _snapshot(runner)
        poller.poll_once = counted_poll
        try:
            task_id = _run(api, tasks, running.tenant, content, engine)
            api_requests += 1  # POST /v1/batches
            view = api.get(f"/v1/tasks/{task_id}").json()  # the one status request (a webhook instead of polls)
            api_requests += 1
            seen, pages = _page_all(api, task_id)
            api_requests += pages
        finally:
            poller.poll_once = original_poll
        after = _snapshot(runner)
    if view["status"] != "ready" or view["progress"]["processed"] != len(texts) or seen != len(texts):
        raise RuntimeError(f"{engine}: the batch did not end with every row once: {view['status']}, {view['progress']}")
    s3 = boto3.client("s3")
    bucket = running.stack.ref("DataBucket")
    ttl = Settings.model_fields["task_ttl_days"].default
    stored: dict[str, int] = {}
    for prefix, days in ((f"uploads/{running.tenant}/{task_id}/", 7), (f"results/{running.tenant}/{task_id}/", ttl)):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                stored[str(days)] = stored.get(str(days), 0) + obj["Size"]
    task_item_bytes = _item_bytes(tasks, running.tenant, task_id)
    functions: dict[str, FunctionUse] = {}
    requests: dict[str, int] = dict(mapping)
    requests["s3:PostObject"] = requests.get("s3:PostObject", 0) + 1  # the client's upload
    usage = view.get("usage") or {}
    llm_requests = usage.get("requests", 0)
    for name in after["invocations"]:
        invocations = after["invocations"][name] - before["invocations"].get(name, 0)
        if not invocations:
            continue
        calls = {
            k: v - before["calls"].get(name, {}).get(k, 0)
            for k, v in after["calls"].get(name, {}).items()
            if k != "s3:CreateBucket"
        }
        props = running.stack.function_properties(name)
        # The LLM's answers are waited for by the LLM worker when the task ran there, else the analyzer.
        llm_worker = (
            "LlmAnalyzeChunkFunction"
            if "LlmAnalyzeChunkFunction" in after["invocations"]
            and (
                after["invocations"]["LlmAnalyzeChunkFunction"]
                > before["invocations"].get("LlmAnalyzeChunkFunction", 0)
            )
            else "AnalyzeChunkFunction"
        )
        waits_for_llm = name == llm_worker
        functions[name] = FunctionUse(
            invocations=invocations,
            cpu_s=after["cpu"].get(name, 0.0) - before["cpu"].get(name, 0.0),
            memory_mb=int(props.get("MemorySize", 512)),
            aws_calls=sum(calls.values()),
            llm_requests=llm_requests if waits_for_llm else 0,
            llm_concurrency=Settings.model_fields["llm_concurrency"].default,
        )
        for call, units in after["units"].get(name, {}).items():
            spent = units - before["units"].get(name, {}).get(call, 0)
            if spent:
                requests[call] = requests.get(call, 0) + spent
    return RecordedRun(
        engine=engine,
        reviews=len(texts),
        functions=functions,
        requests=requests,
        api_requests=api_requests,
        stored_bytes=stored,
        task_item_bytes=task_item_bytes,
        input_tokens=usage.get("input_tokens", 0),
        output_tokens=usage.get("output_tokens", 0),
        llm_answered=view.get("answered_by", {}).get("llm", 0),
        review_chars=sum(map(len, texts)) / len(texts),
        extra={"answered_by": view.get("answered_by", {}), "peak_rss_kb": dict(after["rss"])},
    )


def _csv(texts: list[str], prefix: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["review_id", "review"])
    writer.writerows([f"{prefix}{i + 1:07d}", text] for i, text in enumerate(texts))
    return out.getvalue().encode()


def _snapshot(runner) -> dict[str, Any]:
    return {
        "invocations": dict(runner.invocations),
        "cpu": dict(runner.cpu_seconds),
        "rss": dict(runner.peak_rss_kb),
        "calls": {k: dict(v) for k, v in runner.api_calls.items()},
        "units": {k: dict(v) for k, v in runner.request_units.items()},
    }


def _run(api, tasks, tenant: str, content: bytes, engine: str, timeout: float = 1800) -> str:
    """Create and upload a batch; wait for it by reading the task store (not through the API, so
    that the wait's polls are not counted as the batch's requests). Returns its task id."""
    import httpx

    created = api.post(
        "/v1/batches", json={"filename": "cost.csv", "id_field": "review_id", "options": {"engine": engine}}
    )
    created.raise_for_status()
    body = created.json()
    upload = body["upload"]
    httpx.post(
        upload["url"], data=upload["fields"], files={"file": ("cost.csv", content)}, timeout=300
    ).raise_for_status()
    task_id = body["task"]["task_id"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = tasks.get(tenant, task_id)
        if task is not None and task.status.value in ("ready", "error", "cancelled"):
            return task_id
        time.sleep(0.2)
    raise TimeoutError(f"the {engine} batch did not finish within {timeout:g} s")


def _page_all(api, task_id: str) -> tuple[int, int]:
    items = pages = 0
    cursor = None
    while True:
        params = {"limit": "1000", **({"cursor": cursor} if cursor else {})}
        response = api.get(f"/v1/tasks/{task_id}/results", params=params)
        response.raise_for_status()
        page = response.json()
        items += len(page["items"])
        pages += 1
        if not (cursor := page["next_cursor"]):
            return items, pages


def _item_bytes(tasks, tenant: str, task_id: str) -> int:
    """The task item's size as DynamoDB counts it, near enough: attribute names and values as JSON."""
    task = tasks.get(tenant, task_id)
    return len(json.dumps(task.model_dump(mode="json"), separators=(",", ":")).encode())


# -- the report --------------------------------------------------------------------------------


def report(figures: dict[str, Any]) -> str:
    prices = figures["prices"]
    engines = list(figures["priced"])
    rows = [
        f"**What a million reviews of {figures['review_chars']} characters cost, by engine** (`make bench BENCH=cost`:"
        f" batches of {figures['rows']:,} on the local stack, priced at {prices['region']} list prices of"
        f" {prices['date']}; LLM ${prices['llm']['input_per_million']}/${prices['llm']['output_per_million']}"
        " per million input/output tokens; dollars per million reviews):",
        "",
        "| line item | " + " | ".join(engines) + " |",
        "|---|" + "---|" * len(engines),
    ]
    x86 = {engine: figures["priced"][engine]["x86_64"] for engine in engines}
    arm = {engine: figures["priced"][engine]["arm64"] for engine in engines}
    for name in x86[engines[0]]["per_million_usd"]:
        rows.append(f"| {name} | " + " | ".join(_usd(x86[e]["per_million_usd"][name]) for e in engines) + " |")
    rows.append(
        "| all-in on arm64, synchronous LLM | "
        + " | ".join(_usd(arm[e]["per_million_usd"]["all-in, synchronous LLM"]) for e in engines)
        + " |"
    )
    rows.append("| share sent to the LLM | " + " | ".join(f"{x86[e]['llm_share']:.0%}" for e in engines) + " |")
    rows += [
        "",
        "Others' list prices for the same million texts: "
        + ", ".join(f"{name} {_usd(cost)}" for name, cost in figures["comparison"].items())
        + ".",
    ]
    if "lexicon" in x86:
        lexicon = x86["lexicon"]["per_million_usd"]["all-in, synchronous LLM"]
        comprehend = figures["comparison"]["Amazon Comprehend"]
        rows += [
            "",
            f"Lexicon all-in: {_usd(lexicon)} per million (target ≤ $1), {comprehend / lexicon:,.0f}× cheaper than Comprehend.",
        ]
    unpriced = {k: v for e in engines for k, v in x86[e]["unpriced_calls"].items()}
    if unpriced:
        rows += [
            "",
            "Calls with no price in the table (not in the totals): "
            + ", ".join(f"{k} {v}" for k, v in unpriced.items()),
        ]
    return "\n".join(rows)


def _usd(value: float) -> str:
    return f"${value:,.2f}" if value >= 1 else f"${value:.4f}"
