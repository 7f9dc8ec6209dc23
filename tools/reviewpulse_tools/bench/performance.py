"""`make bench`: the figures the README quotes, measured on this machine in one run.

    lexicon    characters per CPU second of the lexicon engine by text length
    pipeline   a 10,000-review batch on the local stack: AWS API calls per review (counted with
               botocore's event hooks, so the count is exact), time from upload to ready, and
               the analyzer alone on the same texts
    memory     the splitter's peak memory on a 1 MB and a 100 MB file (each in a fresh process)
    coldstart  median of 11 fresh interpreters importing each handler and answering one event
               from events/, against a minimal handler built on the same framework
    llm        the LLM engine against the local fake OpenAI-compatible server: requests and
               input tokens per review batched vs one per request, throughput under a
               requests-per-minute cap, and what a half-repeated batch sends (llm.py)
    insights   a 100,000-row finalize with and without insights (insights.py)
    wire       bytes on the wire paging all results of a --rows task: gzip, deflate and
               fields=id,label against the full uncompressed pages, and a 304 poll (wire.py)
    quote      each workload's quote against what its run then cost (spending.py)
    budget     how far concurrent workers overshoot a task's and a tenant's budget (spending.py)
    cli        `reviewpulse --help` and `status` against a bare interpreter (cli_startup.py)
    batchapi   Batch API mode end to end on 10,000 reviews with 5% failed requests and an expiry
               part-way: exact counts, every row once, cost at the batch price (batch_api.py)
    analyze    POST /v1/analyze's warm latency for 25 short texts against the lexicon analyzer
               alone on the same texts, p50 and p99 (sync_analyze.py)
    cost       dollars per million reviews of 300 characters by engine, priced line by line from
               what a batch per engine used on the local stack (cost.py, prices/)
    scale      a 1,000,000-row CSV end to end after a 10,000-row one: rows per second, every row
               once, splitter and finalizer peak memory of the two (scale.py)

Each benchmark runs in a fresh process and raises when its work did not happen (items not all
analysed, a handler failing its event, a figure missing from its table). Every table that can be
printed is printed; failures are listed at the end and the exit status is 1.

`--quick` runs every benchmark at small sizes and counts, the local-stack ones on one shared
stack: tests/bench/test_quick_bench.py runs it in `make test`, so that a change that breaks a
benchmark fails the suite. Its figures mean nothing; the full run on a quiet machine gives them.

Not part of the test suite's figures: timings depend on the machine; the tests prove behaviour.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from reviewpulse_tools.bench.batches import review_csv
from reviewpulse_tools.bench.batches import run_batch as _run_batch
from reviewpulse_tools.bench.samples import sample_reviews
from reviewpulse_tools.bench.stack import bench_stack
from reviewpulse_tools.local.template import ROOT

COLD_RUNS = 11


# -- pipeline ----------------------------------------------------------------------------------


def bench_pipeline(rows: int, running=None) -> dict:
    import httpx
    from reviewpulse.analysis.lexicon import LexiconAnalyzer

    with bench_stack(running) as running:
        poller_calls = Counter()
        original_poll = running.poller.poll_once

        def counted_poll(trigger, wait_seconds=0):
            handled = original_poll(trigger, wait_seconds)
            poller_calls["sqs:ReceiveMessage"] += 1
            poller_calls["sqs:DeleteMessageBatch"] += 1 if handled else 0
            return handled

        try:
            content = review_csv(rows)
            texts = [row["review"] for row in csv.DictReader(io.StringIO(content.decode()))]
            headers = {"X-Api-Key": running.api_key}
            with httpx.Client(base_url=running.api_url, headers=headers, timeout=60) as api:
                # Warm every function first (imports, botocore models), as a deployed stack would be.
                _run_batch(api, review_csv(20, seed=1))
                running.runner.busy_seconds.clear()
                running.runner.api_calls.clear()
                running.poller.poll_once = counted_poll
                task, end_to_end = _run_batch(api, content)
        finally:
            running.poller.poll_once = original_poll  # a shared stack goes on to other benchmarks
        api_calls = {function: dict(counts) for function, counts in running.runner.api_calls.items()}
        busy_seconds = dict(running.runner.busy_seconds)
        progress = task["progress"]
        if task["status"] != "ready" or (progress["total"], progress["processed"], progress["failed"]) != (
            rows,
            rows,
            0,
        ):
            raise RuntimeError(f"the pipeline did not analyse its {rows} reviews: {task['status']}, {progress}")
        # The analyzer alone while the stack still runs (idle), as it always was measured.
        analyzer = LexiconAnalyzer()
        started = time.perf_counter()
        analysed = analyzer.analyze(texts)
        analyzer_alone = time.perf_counter() - started
    if len(analysed) != rows:
        raise RuntimeError(f"the analyzer alone scored {len(analysed)} of {rows} texts")
    calls: Counter = Counter()
    by_function: Counter = Counter()
    for function, counts in api_calls.items():
        for name, count in counts.items():
            if name != "s3:CreateBucket":  # botocore builds one to sign a presigned POST; nothing is sent
                calls[name] += count
                by_function[function] += count
    function_calls = sum(by_function.values())
    if not function_calls:
        raise RuntimeError("no AWS API call of the functions was counted")
    pipeline_calls = function_calls - by_function.get("GetTaskFunction", 0)
    return {
        "pipeline_calls_per_review": pipeline_calls / rows,
        "rows": rows,
        "end_to_end_s": end_to_end,
        "analyzer_alone_s": analyzer_alone,
        "ratio": end_to_end / analyzer_alone,
        "function_calls": function_calls,
        "calls_per_review": function_calls / rows,
        "mapping_calls": sum(poller_calls.values()),
        "all_calls_per_review": (function_calls + sum(poller_calls.values())) / rows,
        "by_operation": dict(calls.most_common()),
        "by_function": dict(by_function.most_common()),
        "progress": task["progress"],
        "busy_s": dict(sorted(busy_seconds.items(), key=lambda kv: -kv[1])),
    }


# -- splitter memory ---------------------------------------------------------------------------

SPLIT_CHILD = textwrap.dedent(
    """
    import json, os, sys, tracemalloc, threading, boto3
    from reviewpulse.storage.layout import parse_source_key
    from reviewpulse.settings import get_settings
    from reviewpulse.api.schemas import OptionsRequest
    from reviewpulse.wiring import finalize_queue, input_files, key_repository, result_files, task_repository, work_queue
    from reviewpulse.usecases.split import DropChecks, split_source
    sqs = boto3.client("sqs")
    stop = threading.Event()
    def drain():  # moto's SQS slows as a queue fills: empty it as the split fills it
        while not stop.is_set():
            sqs.purge_queue(QueueUrl=os.environ["WORK_QUEUE_URL"])
            stop.wait(0.5)
    threading.Thread(target=drain, daemon=True).start()
    def peak_rss_kb():
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across exec.
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    before = peak_rss_kb()
    tracemalloc.start()
    outcome = split_source(parse_source_key(sys.argv[1]), tasks=task_repository(), input_files=input_files(),
                           queue=work_queue(), finalizer=finalize_queue(), settings=get_settings(),
                           drops=DropChecks(key_repository(), result_files(), OptionsRequest))
    traced = tracemalloc.get_traced_memory()[1]
    stop.set()
    print(json.dumps({"items": outcome.items, "chunks": outcome.chunks, "outcome": outcome.outcome,
                      "traced_peak": traced, "rss_peak_kb": peak_rss_kb(),
                      "rss_before_kb": before}))
    """
)


# The tenant whose drops the splitter reads: drops are accepted only for a tenant with an active API
# key (a tenant exists iff it has one), so the benchmark gives it one, as `reviewpulse keys create` does.
DROP_TENANT = "bench"


def bench_split_memory(sizes_mb: tuple[float, ...]) -> list[dict]:
    import boto3
    from moto.server import ThreadedMotoServer
    from reviewpulse.tenants.keys import KeyRepository

    from reviewpulse_tools.local.provision import provision
    from reviewpulse_tools.local.stack import aws_environment, free_port

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    environment = aws_environment(f"http://127.0.0.1:{port}")
    os.environ.update(environment)
    results = []
    try:
        stack = provision(boto3.session.Session(region_name="us-east-1"), stack_name="reviewpulse-bench")
        # Nothing polls here: the S3 notifications would only fill the ingest queue.
        s3 = boto3.client("s3")
        s3.put_bucket_notification_configuration(Bucket=stack.ref("DataBucket"), NotificationConfiguration={})
        KeyRepository(stack.ref("KeysTable"), boto3.client("dynamodb")).create(DROP_TENANT)
        env = {**os.environ, **stack.function_environment("SplitFunction"), **environment, "CHUNK_MAX_ITEMS": "2000"}
        env["POWERTOOLS_LOG_LEVEL"] = "WARNING"
        # The splitter refuses a file over the deployment's MaxUploadBytes (100 MiB by default) before
        # reading it; the largest file here is a little over that, so the limit is raised for it.
        env["MAX_UPLOAD_BYTES"] = str(int(2 * max(sizes_mb) * 1024 * 1024))
        for size in sizes_mb:
            rows = int(size * 1024 * 1024 // 100)  # a row of the sample reviews averages about 100 bytes
            key = f"incoming/{DROP_TENANT}/split-{size:g}mb.csv"
            body = review_csv(rows)
            s3.put_object(Bucket=stack.ref("DataBucket"), Key=key, Body=body)
            done = subprocess.run(
                [sys.executable, "-c", SPLIT_CHILD, key], env=env, capture_output=True, text=True, timeout=1800
            )
            if done.returncode != 0:
                raise RuntimeError(done.stderr[-3000:])
            measured = json.loads(done.stdout.strip().splitlines()[-1])
            if measured["outcome"] != "split" or measured["items"] != rows:
                raise RuntimeError(f"the {size:g} MB file was not split whole ({rows} rows): {measured}")
            measured.update(size_mb=len(body) / 1024 / 1024)
            results.append(measured)
            s3.delete_object(Bucket=stack.ref("DataBucket"), Key=key)
    finally:
        server.stop()
    return results


# -- cold start --------------------------------------------------------------------------------

API_FLOOR = textwrap.dedent(
    """
    import boto3
    from aws_lambda_powertools import Logger, Metrics, Tracer
    from fastapi import FastAPI
    from mangum import Mangum
    logger, metrics, tracer = Logger(), Metrics(), Tracer()
    table = boto3.client("dynamodb")
    app = FastAPI()
    @app.get("/health")
    def health():
        return {"status": "ok"}
    asgi = Mangum(app, lifespan="off")
    @logger.inject_lambda_context
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics(capture_cold_start_metric=True)
    def handler(event, context):
        return asgi(event, context)
    """
)
QUEUE_FLOOR = textwrap.dedent(
    """
    import boto3
    from aws_lambda_powertools import Logger, Metrics, Tracer
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
    logger, metrics, tracer = Logger(), Metrics(), Tracer()
    queue = boto3.client("sqs")
    processor = BatchProcessor(event_type=EventType.SQS)
    def record_handler(record):
        return None
    @logger.inject_lambda_context
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics(capture_cold_start_metric=True)
    def handler(event, context):
        return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    """
)
COLD_CHILD = textwrap.dedent(
    """
    import time
    started = time.perf_counter()
    import importlib.util, json, sys, io, contextlib
    spec = importlib.util.spec_from_file_location("app", sys.argv[1])
    module = importlib.util.module_from_spec(spec)
    with contextlib.redirect_stdout(io.StringIO()):
        spec.loader.exec_module(module)
        imported = time.perf_counter()
        class Context:
            function_name = "bench"; memory_limit_in_mb = 512; aws_request_id = "bench"
            invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
            def get_remaining_time_in_millis(self): return 30000
        response = module.handler(json.loads(open(sys.argv[2]).read()), Context())
    answered = time.perf_counter()
    print(json.dumps({"import": imported - started, "total": answered - started, "response": response}, default=str))
    """
)
# The event each function answers in the cold-start runs.
COLD_EVENTS = {
    "AuthorizerFunction": "authorizer.json",
    "CreateTaskFunction": "create_task.json",
    "CreateBatchFunction": "create_batch.json",
    "ListTasksFunction": "list_tasks.json",
    "GetTaskFunction": "get_task.json",
    "DeleteTaskFunction": "delete_task.json",
    "GetResultsFunction": "get_results.json",
    "GetInsightsFunction": "get_insights.json",
    "HealthFunction": "health.json",
    "SplitFunction": "split.json",
    "AnalyzeFunction": "analyze.json",
    "LlmAnalyzeFunction": "analyze.json",
    "FinalizeFunction": "finalize.json",
    "DeadLetterFunction": "dead_letter.json",
    "SweeperFunction": "sweeper.json",
}
API_FUNCTIONS = {
    "CreateTaskFunction",
    "DeleteTaskFunction",
    "CreateBatchFunction",
    "ListTasksFunction",
    "GetTaskFunction",
    "GetResultsFunction",
    "GetInsightsFunction",
    "HealthFunction",
    "AuthorizerFunction",
}


def bench_cold_start(runs: int = COLD_RUNS, part_runs: int = 5, floor_once: bool = False, running=None) -> dict:
    """`floor_once`: each kind's floor measured once and compared with every function of that kind
    (the quick run: half the interpreters), instead of alternating with each function."""
    from reviewpulse.tenants.keys import KeyRepository

    work = Path(tempfile.mkdtemp())
    (work / "api_floor.py").write_text(API_FLOOR)
    (work / "queue_floor.py").write_text(QUEUE_FLOOR)
    (work / "child.py").write_text(COLD_CHILD)
    with bench_stack(running) as running:
        import boto3

        sample_key = json.loads((ROOT / "events" / "authorizer.json").read_text())["headers"]["X-Api-Key"]
        KeyRepository(running.stack.ref("KeysTable"), boto3.client("dynamodb")).add(sample_key, "example")
        # The handlers run in bare interpreters: the domain package and the dependencies come from
        # the same places the layers would put them on sys.path.
        site = next(p for p in sys.path if p.endswith("site-packages"))
        env_base = {
            "PATH": os.environ["PATH"],
            "PYTHONPATH": os.pathsep.join([str(ROOT / "shared"), site]),
            "POWERTOOLS_TRACE_DISABLED": "false",
            "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }

        def once(app: Path, event: Path, function_env: dict) -> float:
            done = subprocess.run(
                [sys.executable, "-S", str(work / "child.py"), str(app), str(event)],
                env={**env_base, **function_env},
                capture_output=True,
                text=True,
                timeout=120,
            )
            if done.returncode != 0:
                raise RuntimeError(f"{app}: {done.stderr[-2000:]}")
            measured = json.loads(done.stdout.strip().splitlines()[-1])
            _check_answered(app, measured["response"])
            return measured["total"]

        results = {}
        aws_env = {k: v for k, v in running.runner.extra_environment.items() if k.startswith("AWS_")}
        floor_env = {**running.stack.function_environment("HealthFunction"), **aws_env}
        floor_runs: dict[str, list[float]] = {"api": [], "queue": []}
        for function, event in COLD_EVENTS.items():
            env = {**running.stack.function_environment(function), **aws_env}
            app = running.stack.function_code_dir(function) / "app.py"
            kind = "api" if function in API_FUNCTIONS else "queue"
            floor_app, floor_event = (
                (work / "api_floor.py", ROOT / "events" / "health.json")
                if kind == "api"
                else (work / "queue_floor.py", ROOT / "events" / "analyze.json")
            )
            # Floor and function alternate, so drift in the machine's speed hits both alike.
            floors, totals = [], []
            for _ in range(runs):
                if not (floor_once and floor_runs[kind]):
                    floors.append(once(floor_app, floor_event, floor_env))
                totals.append(once(app, ROOT / "events" / event, env))
            floor_runs[kind] += floors
            floors = floors or floor_runs[kind]
            median, floor = statistics.median(totals), statistics.median(floors)
            results[function] = {"median_s": median, "floor_s": floor, "ratio": median / floor}
        floors = {kind: statistics.median(values) for kind, values in floor_runs.items()}
        parts = _floor_parts(env_base, part_runs)
    return {"runs": runs, "part_runs": part_runs, "functions": results, "floors": floors, "floor_parts": parts}


def _check_answered(app: Path, response: object) -> None:
    """A cold start counts only if the handler did its work: no 5xx from an API function, no
    failed record from a queue function, an Allow from the authorizer (for the sample key)."""
    if not isinstance(response, dict):
        return  # the scheduled functions return nothing
    if "statusCode" in response and int(response["statusCode"]) >= 500:
        raise RuntimeError(f"{app} answered its sample event with {response['statusCode']}: {response}")
    if response.get("batchItemFailures"):
        raise RuntimeError(f"{app} failed records of its sample event: {response['batchItemFailures']}")
    statements = response.get("policyDocument", {}).get("Statement", [])
    if statements and any(statement.get("Effect") != "Allow" for statement in statements):
        raise RuntimeError(f"{app} denied the sample event's key: {response}")


def _floor_parts(env_base: dict, runs: int = 5) -> dict:
    """What the floor itself is made of: each import on its own, in a fresh interpreter."""
    pieces = {
        "python start": "pass",
        "boto3 + one client": "import boto3; boto3.client('sqs', region_name='us-east-1')",
        "Powertools Logger + Metrics": "from aws_lambda_powertools import Logger, Metrics; Logger(); Metrics()",
        "Powertools Tracer (X-Ray SDK)": "from aws_lambda_powertools import Tracer; Tracer()",
        "FastAPI": "import fastapi",
        "Mangum": "import mangum",
        "BatchProcessor": "from aws_lambda_powertools.utilities.batch import BatchProcessor",
        "vaderSentiment + lexicon": "from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer as S; S()",
    }
    measured = {}
    for name, code in pieces.items():
        samples = []
        for _ in range(runs):
            script = f"import time; t=time.perf_counter(); {code}; print(time.perf_counter()-t)"
            done = subprocess.run([sys.executable, "-S", "-c", script], env=env_base, capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(f"the floor's part {name!r} failed: {done.stderr[-1000:]}")
            samples.append(float(done.stdout.strip()))
        measured[name] = statistics.median(samples)
    return measured


# -- report ------------------------------------------------------------------------------------


LEXICON_LENGTHS = (100, 500, 1_000, 2_000, 5_000)
LEXICON_CHARS_PER_LENGTH = 300_000


def bench_lexicon(lengths: tuple[int, ...] = LEXICON_LENGTHS, chars: int = LEXICON_CHARS_PER_LENGTH) -> dict:
    """Characters per second of the lexicon engine by text length: texts cut from the project's
    sample reviews, joined until long enough; the same number of characters at every length. CPU
    time of this (single-threaded) process, so that other work on the machine does not skew it."""
    from reviewpulse.analysis.lexicon import LexiconAnalyzer

    analyzer = LexiconAnalyzer()
    reviews = sample_reviews()
    rnd = random.Random(3)
    rates = {}
    for length in lengths:
        texts = []
        while len(texts) * length < chars:
            text = ""
            while len(text) < length:
                text += rnd.choice(reviews) + " "
            texts.append(text[:length])
        analyzer.analyze(texts[:20])  # warm up
        started = time.process_time()
        scored = analyzer.analyze(texts)
        elapsed = time.process_time() - started
        if len(scored) != len(texts) or not elapsed:
            raise RuntimeError(f"the lexicon scored {len(scored)} of {len(texts)} texts of {length} characters")
        rates[str(length)] = sum(map(len, texts)) / elapsed
    return {"chars_per_second": rates, "chars_per_length": chars}


# -- reports -----------------------------------------------------------------------------------


def report_lexicon(lexicon: dict) -> str:
    rates = lexicon["chars_per_second"]
    base = rates[min(rates, key=int)]
    return "\n".join(
        [
            "Lexicon engine, characters per CPU second by text length (each text scored once):",
            "",
            "| characters | chars/s | vs shortest |",
            "|---|---|---|",
            *(f"| {int(n):,} | {rate:,.0f} | {rate / base:.0%} |" for n, rate in rates.items()),
        ]
    )


def report_pipeline(p: dict) -> str:
    return "\n".join(
        [
            f"**Pipeline, {p['rows']:,} reviews on the local stack** (`make bench`):",
            "",
            "| figure | value | target |",
            "|---|---|---|",
            f"| AWS API calls by the functions per review | {p['calls_per_review']:.4f} ({p['function_calls']} calls) | ≤ 0.05 |",
            f"| … without the client's status polls (GetTask) | {p['pipeline_calls_per_review']:.4f} | |",
            f"| … plus the event source mappings' receives and deletes | {p['all_calls_per_review']:.4f} | |",
            f"| upload → ready | {p['end_to_end_s']:.2f} s | |",
            f"| analyzer alone on the same texts | {p['analyzer_alone_s']:.2f} s | |",
            f"| ratio | {p['ratio']:.2f}× | ≤ 2× |",
            "",
            "Calls by operation: " + ", ".join(f"{k} {v}" for k, v in p["by_operation"].items()),
            "",
            "Calls by function: " + ", ".join(f"{k} {v}" for k, v in p["by_function"].items()),
            "",
            "Time inside each function's handlers (functions run in their own processes, the analyzer in"
            " several, so these overlap): " + ", ".join(f"{k} {v:.2f} s" for k, v in p["busy_s"].items()) + ".",
        ]
    )


def report_memory(memory: list) -> str:
    lines = [
        "**Splitter peak memory** (fresh process each; RSS includes the interpreter and imports):",
        "",
        "| file | rows | chunks | peak RSS | Python heap peak (tracemalloc) |",
        "|---|---|---|---|---|",
    ]
    for m in memory:
        lines.append(
            f"| {m['size_mb']:.3g} MB | {m['items']:,} | {m['chunks']:,} | {m['rss_peak_kb'] / 1024:.0f} MB "
            f"| {m['traced_peak'] / 1024 / 1024:.1f} MB |"
        )
    if len(memory) > 1:
        ratio = memory[-1]["rss_peak_kb"] / memory[0]["rss_peak_kb"]
        lines += ["", f"Largest ÷ smallest peak RSS: {ratio:.2f}× (target ≤ 1.2×)."]
    return "\n".join(lines)


def report_cold(cold: dict) -> str:
    lines = [
        f"**Cold start**, median of {cold['runs']} fresh interpreters importing the handler and answering one "
        "event from events/ (Tracer on), against a minimal handler on the same framework:",
        "",
        "| function | median | floor | ratio |",
        "|---|---|---|---|",
    ]
    for name, c in cold["functions"].items():
        lines.append(f"| {name} | {c['median_s'] * 1000:.0f} ms | {c['floor_s'] * 1000:.0f} ms | {c['ratio']:.2f}× |")
    lines += [
        "",
        f"The floor's parts, each imported alone (median of {cold['part_runs']}): "
        + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in cold["floor_parts"].items()),
    ]
    return "\n".join(lines)


# -- the benchmarks, full and quick ------------------------------------------------------------

# In this order in `make bench` and its report. Those marked run on the local stack (a quick run
# shares one stack among them).
BENCHMARKS = (
    "lexicon",
    "pipeline",
    "memory",
    "coldstart",
    "llm",
    "insights",
    "wire",
    "quote",
    "budget",
    "cli",
    "batchapi",
    "analyze",
    "cost",
    "scale",
)
ON_THE_STACK = ("pipeline", "coldstart", "wire", "quote", "cli", "cost", "scale")
FULL_ROWS, FULL_SIZES = 10_000, "1,100"
# The quick run (`--quick`, in `make test`): every benchmark, every figure, at sizes and counts that
# keep the whole run to a few minutes. Its figures prove the benchmarks work, not how fast.
QUICK_ROWS, QUICK_SIZES = 200, "0.05,0.1"


def run_benchmark(name: str, *, quick: bool, rows: int, sizes_mb: tuple[float, ...], running=None) -> dict:
    """One benchmark's figures; it raises if its work did not happen."""
    from reviewpulse_tools.bench import batch_api, cli_startup, cost, insights, llm, scale, spending, sync_analyze, wire

    if name == "lexicon":
        return bench_lexicon((100, 1_000), chars=20_000) if quick else bench_lexicon()
    if name == "pipeline":
        return bench_pipeline(rows, running=running)
    if name == "memory":
        return bench_split_memory(sizes_mb)
    if name == "coldstart":
        return bench_cold_start(runs=1, part_runs=1, floor_once=True, running=running) if quick else bench_cold_start()
    if name == "llm":
        return llm.bench_llm(reviews=100, rate_requests=10) if quick else llm.bench_llm()
    if name == "insights":
        return insights.bench_insights(quick=quick)
    if name == "wire":
        return wire.bench_wire(rows, running=running)
    if name == "quote":
        return spending.bench_quote(rows=50, held_out=False, running=running) if quick else spending.bench_quote()
    if name == "budget":
        return spending.bench_budget(chunks_per_worker=2) if quick else spending.bench_budget()
    if name == "cli":
        return cli_startup.bench_cli(runs=1, running=running) if quick else cli_startup.bench_cli()
    if name == "batchapi":
        return batch_api.bench_batch_api(rows=rows) if quick else batch_api.bench_batch_api()
    if name == "analyze":
        return sync_analyze.bench_analyze(rounds=10, warmup=2) if quick else sync_analyze.bench_analyze()
    if name == "scale":
        if quick:
            return scale.bench_scale(scale.QUICK_SMALL, scale.QUICK_LARGE, running=running)
        return scale.bench_scale()
    if name == "cost":
        return cost.bench_cost(rows=cost.QUICK_ROWS, running=running) if quick else cost.bench_cost()
    raise ValueError(f"unknown benchmark: {name}")


def report_of(name: str, figures) -> str:
    """The benchmark's table, as the README quotes it."""
    from reviewpulse_tools.bench import batch_api, cli_startup, cost, insights, llm, scale, spending, sync_analyze, wire

    reports = {
        "lexicon": report_lexicon,
        "pipeline": report_pipeline,
        "memory": report_memory,
        "coldstart": report_cold,
        "llm": lambda f: "\n".join(llm.report(f)),
        "insights": insights.report,
        "wire": lambda f: "\n".join(wire.report(f)),
        "quote": spending.report_quote,
        "budget": spending.report_budget,
        "cli": cli_startup.report,
        "batchapi": lambda f: "\n".join(batch_api.report(f)),
        "analyze": sync_analyze.report,
        "cost": cost.report,
        "scale": scale.report,
    }
    return reports[name](figures).strip()


_NOT_A_NUMBER = re.compile(r"(?<![\w.])(nan|inf)(?![\w])", re.IGNORECASE)


def checked_report(name: str, figures) -> str:
    """The report, or an error if a figure it prints is missing (KeyError) or not a number."""
    text = report_of(name, figures)
    if not text:
        raise RuntimeError("its report is empty")
    if _NOT_A_NUMBER.search(text):
        raise RuntimeError(f"a figure in its report is not a number: {text}")
    return text


def _run_in_child(names: list[str], args: argparse.Namespace) -> dict[str, dict]:
    """Each benchmark in a fresh process (moto keeps its state per process, and timings start
    clean); a quick run's stack benchmarks together, on the one stack they share."""
    command = [sys.executable, "-m", "reviewpulse_tools.bench.performance", "--one", ",".join(names)]
    command += ["--rows", str(args.rows), "--sizes", args.sizes, *(["--quick"] if args.quick else [])]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return {name: {"error": f"did not finish within {args.timeout:g} s"} for name in names}
    try:
        outcomes = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        outcomes = {}
    missing = {
        name: {"error": f"its process exited {done.returncode} without figures: {done.stderr[-3000:]}"}
        for name in names
        if name not in outcomes
    }
    if done.returncode != 0 or any("error" in outcome for outcome in outcomes.values()):
        print(done.stderr[-4000:], file=sys.stderr)
    return {**outcomes, **missing}


def _one(names: list[str], args: argparse.Namespace) -> dict[str, dict]:
    """The `--one` child: each named benchmark's figures or its error, printed as one JSON line."""
    import traceback
    import warnings

    warnings.filterwarnings("ignore", message="No application metrics to publish")
    sizes = tuple(float(s) for s in args.sizes.split(","))
    outcomes: dict[str, dict] = {}
    shared = None
    with _quiet_stdout():
        try:
            if args.quick and len([n for n in names if n in ON_THE_STACK]) > 1:
                from reviewpulse_tools.bench.stack import start_shared_stack

                shared = start_shared_stack()
            for name in names:
                started = time.perf_counter()
                try:
                    figures = run_benchmark(
                        name,
                        quick=args.quick,
                        rows=args.rows,
                        sizes_mb=sizes,
                        running=shared if name in ON_THE_STACK else None,
                    )
                    outcomes[name] = {"figures": figures, "seconds": time.perf_counter() - started}
                except Exception as exc:  # one benchmark's failure must not hide the others' figures
                    traceback.print_exc(file=sys.stderr)
                    outcomes[name] = {"error": f"{type(exc).__name__}: {exc}"[:3000]}
        except Exception as exc:  # the shared stack did not start
            traceback.print_exc(file=sys.stderr)
            outcomes = {name: {"error": f"the shared local stack did not start: {exc}"} for name in names}
        finally:
            if shared is not None:
                shared.stop()
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", nargs="*", help=f"{', '.join(BENCHMARKS)} (default: all)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="every benchmark at small sizes and counts, stack benchmarks on one shared stack: "
        "proves each runs and prints its figures (make test runs it); the figures mean nothing",
    )
    parser.add_argument(
        "--rows", type=int, help=f"pipeline, wire (and batchapi when quick) rows (default {FULL_ROWS:,})"
    )
    parser.add_argument("--sizes", help=f"splitter file sizes in MB (default {FULL_SIZES})")
    parser.add_argument("--json", type=Path, help="also write the raw figures and failures here")
    parser.add_argument("--timeout", type=float, help="seconds each benchmark process may take (default: no limit)")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: run these benchmarks, print JSON
    args = parser.parse_args(argv)
    args.rows = args.rows or (QUICK_ROWS if args.quick else FULL_ROWS)
    args.sizes = args.sizes or (QUICK_SIZES if args.quick else FULL_SIZES)
    if args.one:
        print(json.dumps(_one(args.one.split(","), args)))
        return 0
    which = args.which or list(BENCHMARKS)
    if set(which) - set(BENCHMARKS):
        parser.error(f"unknown benchmark: {', '.join(sorted(set(which) - set(BENCHMARKS)))}")
    chosen = [name for name in BENCHMARKS if name in which]
    if args.quick:
        together = [name for name in chosen if name in ON_THE_STACK]
        groups = [[name] for name in chosen if name not in ON_THE_STACK] + ([together] if together else [])
    else:
        groups = [[name] for name in chosen]
    outcomes: dict[str, dict] = {}
    # What each process took, in wall and in CPU time (the processes it waited for included): on a
    # machine shared with other jobs the CPU time says more about the run's own cost.
    costs: dict[str, dict[str, float]] = {}
    for group in groups:
        print(f"running {', '.join(group)}…", file=sys.stderr, flush=True)
        cpu, started = _children_cpu_seconds(), time.perf_counter()
        outcomes.update(_run_in_child(group, args))
        costs[",".join(group)] = {
            "wall_s": round(time.perf_counter() - started, 1),
            "cpu_s": round(_children_cpu_seconds() - cpu, 1),
        }
    print(
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {platform.node() or 'this machine'}: "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.machine()}."
        + (
            " QUICK RUN: small sizes and counts; these figures prove the benchmarks run, not how fast."
            if args.quick
            else ""
        )
    )
    failures: dict[str, str] = {}
    for name in chosen:  # every table that can be printed is, whatever failed before it
        outcome = outcomes[name]
        if "error" in outcome:
            failures[name] = outcome["error"]
            continue
        try:
            print("\n" + checked_report(name, outcome["figures"]))
        except Exception as exc:
            failures[name] = f"its report failed: {type(exc).__name__}: {exc}"
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "quick": args.quick,
                    "benchmarks": chosen,
                    "figures": {n: o["figures"] for n, o in outcomes.items() if n not in failures},
                    "seconds": {n: o.get("seconds") for n, o in outcomes.items()},
                    "processes": costs,
                    "failed": failures,
                },
                indent=2,
            )
        )
    wall, cpu = (sum(cost[kind] for cost in costs.values()) for kind in ("wall_s", "cpu_s"))
    print(f"\n{wall:.0f} s wall, {cpu:.0f} s CPU in the benchmarks' processes", file=sys.stderr)
    if failures:
        print(f"\n{len(failures)} of {len(chosen)} benchmarks FAILED:", file=sys.stderr)
        for name, error in failures.items():
            print(f"  {name}: {error}", file=sys.stderr)
        print(f"\nbenchmarks failed: {', '.join(failures)}")
        return 1
    print(f"\nall {len(chosen)} benchmarks ran: {', '.join(chosen)}", file=sys.stderr)
    return 0


def _children_cpu_seconds() -> float:
    import resource

    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


class _quiet_stdout:
    """The in-process functions print their EMF metric lines; the report is what matters here."""

    def __enter__(self):
        import contextlib

        self._redirect = contextlib.redirect_stdout(sys.stderr if os.environ.get("BENCH_VERBOSE") else io.StringIO())
        return self._redirect.__enter__()

    def __exit__(self, *exc):
        return self._redirect.__exit__(*exc)


if __name__ == "__main__":
    sys.exit(main())
