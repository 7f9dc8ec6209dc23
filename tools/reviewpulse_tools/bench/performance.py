"""`make bench`: the figures the README quotes, measured on this machine in one run.

    pipeline   a 10,000-review batch on the local stack: AWS API calls per review (counted with
               botocore's event hooks, so the count is exact), time from upload to ready, and
               the analyzer alone on the same texts
    memory     the splitter's peak memory on a 1 MB and a 100 MB file (each in a fresh process)
    coldstart  median of 11 fresh interpreters importing each handler and answering one event
               from events/, against a minimal handler built on the same framework
    llm        the LLM engine against the local fake OpenAI-compatible server: requests and
               input tokens per review batched vs one per request, throughput under a
               requests-per-minute cap, and what a half-repeated batch sends (llm.py)
    wire       bytes on the wire paging all results of a --rows task: gzip, deflate and
               fields=id,label against the full uncompressed pages, and a 304 poll (wire.py)
    batchapi   Batch API mode end to end on 10,000 reviews with 5% failed requests and an expiry
               part-way: exact counts, every row once, cost at the batch price (batch_api.py)
    analyze    POST /v1/analyze's warm latency for 25 short texts against the lexicon analyzer
               alone on the same texts, p50 and p99 (sync_analyze.py)

Not part of the test suite: timings depend on the machine; the tests prove behaviour.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import random
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
from reviewpulse_tools.local.template import ROOT

COLD_RUNS = 11


# -- pipeline ----------------------------------------------------------------------------------


def bench_pipeline(rows: int) -> dict:
    import httpx
    from reviewpulse.analysis.lexicon import LexiconAnalyzer

    from reviewpulse_tools.local.stack import free_port, start

    workdir = Path(tempfile.mkdtemp())
    os.environ["REVIEWPULSE_STATE"] = str(workdir / "stack.json")
    running = start(api_port=free_port(), aws_port=free_port(), function_output=workdir / "functions.log")
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
        assert task["status"] == "ready", task
        analyzer = LexiconAnalyzer()
        started = time.perf_counter()
        analyzer.analyze(texts)
        analyzer_alone = time.perf_counter() - started
    finally:
        running.stop()
    calls: Counter = Counter()
    by_function: Counter = Counter()
    for function, counts in running.runner.api_calls.items():
        for name, count in counts.items():
            if name != "s3:CreateBucket":  # botocore builds one to sign a presigned POST; nothing is sent
                calls[name] += count
                by_function[function] += count
    function_calls = sum(by_function.values())
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
        "busy_s": dict(sorted(running.runner.busy_seconds.items(), key=lambda kv: -kv[1])),
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


def bench_split_memory(sizes_mb: tuple[int, ...]) -> list[dict]:
    import boto3
    from moto.server import ThreadedMotoServer

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
        env = {**os.environ, **stack.function_environment("SplitFunction"), **environment, "CHUNK_MAX_ITEMS": "2000"}
        env["POWERTOOLS_LOG_LEVEL"] = "WARNING"
        # The splitter refuses a file over the deployment's MaxUploadBytes (100 MiB by default) before
        # reading it; the largest file here is a little over that, so the limit is raised for it.
        env["MAX_UPLOAD_BYTES"] = str(2 * max(sizes_mb) * 1024 * 1024)
        for size in sizes_mb:
            rows = size * 1024 * 1024 // 100  # a row of the sample reviews averages about 100 bytes
            key = f"incoming/bench/split-{size}mb.csv"
            body = review_csv(rows)
            s3.put_object(Bucket=stack.ref("DataBucket"), Key=key, Body=body)
            done = subprocess.run(
                [sys.executable, "-c", SPLIT_CHILD, key], env=env, capture_output=True, text=True, timeout=1800
            )
            if done.returncode != 0:
                raise RuntimeError(done.stderr[-3000:])
            measured = json.loads(done.stdout.strip().splitlines()[-1])
            if measured["outcome"] != "split" or measured["items"] != rows:
                raise RuntimeError(f"the {size} MB file was not split whole: {measured}")
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
        module.handler(json.loads(open(sys.argv[2]).read()), Context())
    answered = time.perf_counter()
    print(json.dumps({"import": imported - started, "total": answered - started}))
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


def bench_cold_start(runs: int = COLD_RUNS) -> dict:
    from reviewpulse.tenants.keys import KeyRepository

    from reviewpulse_tools.local.stack import free_port, start

    workdir = Path(tempfile.mkdtemp())
    os.environ["REVIEWPULSE_STATE"] = str(workdir / "stack.json")
    running = start(api_port=free_port(), aws_port=free_port(), function_output=workdir / "functions.log")
    work = Path(tempfile.mkdtemp())
    (work / "api_floor.py").write_text(API_FLOOR)
    (work / "queue_floor.py").write_text(QUEUE_FLOOR)
    (work / "child.py").write_text(COLD_CHILD)
    try:
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
            return json.loads(done.stdout.strip().splitlines()[-1])["total"]

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
                floors.append(once(floor_app, floor_event, floor_env))
                totals.append(once(app, ROOT / "events" / event, env))
            floor_runs[kind] += floors
            median, floor = statistics.median(totals), statistics.median(floors)
            results[function] = {"median_s": median, "floor_s": floor, "ratio": median / floor}
        floors = {kind: statistics.median(values) for kind, values in floor_runs.items()}
        parts = _floor_parts(env_base)
    finally:
        running.stop()
    return {"functions": results, "floors": floors, "floor_parts": parts}


def _floor_parts(env_base: dict) -> dict:
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
        for _ in range(5):
            script = f"import time; t=time.perf_counter(); {code}; print(time.perf_counter()-t)"
            done = subprocess.run([sys.executable, "-S", "-c", script], env=env_base, capture_output=True, text=True)
            samples.append(float(done.stdout.strip() or "nan"))
        measured[name] = statistics.median(samples)
    return measured


# -- report ------------------------------------------------------------------------------------


LEXICON_LENGTHS = (100, 500, 1_000, 2_000, 5_000)
LEXICON_CHARS_PER_LENGTH = 300_000


def bench_lexicon(lengths: tuple[int, ...] = LEXICON_LENGTHS) -> dict:
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
        while len(texts) * length < LEXICON_CHARS_PER_LENGTH:
            text = ""
            while len(text) < length:
                text += rnd.choice(reviews) + " "
            texts.append(text[:length])
        analyzer.analyze(texts[:20])  # warm up
        started = time.process_time()
        analyzer.analyze(texts)
        rates[str(length)] = sum(map(len, texts)) / (time.process_time() - started)
    return {"chars_per_second": rates}


def report(
    pipeline: dict | None,
    memory: list | None,
    cold: dict | None,
    llm: dict | None = None,
    lexicon: dict | None = None,
) -> str:
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {platform.node() or 'this machine'}: "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.machine()}.",
        "",
    ]
    if lexicon:
        rates = lexicon["chars_per_second"]
        base = rates[min(rates, key=int)]
        lines += [
            "Lexicon engine, characters per CPU second by text length (each text scored once):",
            "",
            "| characters | chars/s | vs shortest |",
            "|---|---|---|",
            *(f"| {int(n):,} | {rate:,.0f} | {rate / base:.0%} |" for n, rate in rates.items()),
            "",
        ]
    if pipeline:
        p = pipeline
        lines += [
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
            "",
        ]
    if memory:
        base = memory[0]
        lines += [
            "**Splitter peak memory** (fresh process each; RSS includes the interpreter and imports):",
            "",
            "| file | rows | chunks | peak RSS | Python heap peak (tracemalloc) |",
            "|---|---|---|---|---|",
        ]
        for m in memory:
            lines.append(
                f"| {m['size_mb']:.0f} MB | {m['items']:,} | {m['chunks']:,} | {m['rss_peak_kb'] / 1024:.0f} MB "
                f"| {m['traced_peak'] / 1024 / 1024:.1f} MB |"
            )
        if len(memory) > 1:
            lines += [
                "",
                f"Largest ÷ smallest peak RSS: {memory[-1]['rss_peak_kb'] / base['rss_peak_kb']:.2f}× (target ≤ 1.2×).",
                "",
            ]
    if cold:
        lines += [
            f"**Cold start**, median of {COLD_RUNS} fresh interpreters importing the handler and answering one "
            "event from events/ (Tracer on), against a minimal handler on the same framework:",
            "",
            "| function | median | floor | ratio |",
            "|---|---|---|---|",
        ]
        for name, c in cold["functions"].items():
            lines.append(
                f"| {name} | {c['median_s'] * 1000:.0f} ms | {c['floor_s'] * 1000:.0f} ms | {c['ratio']:.2f}× |"
            )
        lines += [
            "",
            "The floor's parts, each imported alone (median of 5): "
            + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in cold["floor_parts"].items()),
            "",
        ]
    if llm:
        from reviewpulse_tools.bench.llm import report as llm_report

        lines += llm_report(llm)
    return "\n".join(lines)


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
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "which",
        nargs="*",
        help="lexicon, pipeline, memory, coldstart, llm, insights, wire, quote, budget, cli, batchapi, analyze "
        "(default: all)",
    )
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--sizes", default="1,100", help="splitter file sizes in MB")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one benchmark, print JSON
    args = parser.parse_args(argv)
    if args.one:
        import warnings

        warnings.filterwarnings("ignore", message="No application metrics to publish")
        with _quiet_stdout():
            figures = {
                "pipeline": lambda: bench_pipeline(args.rows),
                "memory": lambda: bench_split_memory(tuple(int(s) for s in args.sizes.split(","))),
                "coldstart": bench_cold_start,
                "llm": _bench_llm,
                "lexicon": bench_lexicon,
                "insights": _bench_insights,
                "wire": lambda: _bench_wire(args.rows),
                "quote": _bench_quote,
                "budget": _bench_budget,
                "cli": _bench_cli,
                "batchapi": _bench_batch_api,
                "analyze": _bench_analyze,
            }[args.one]()
        print(json.dumps(figures))
        return 0
    which = args.which or list(BENCHMARKS)
    if set(which) - set(BENCHMARKS):
        parser.error(f"unknown benchmark: {', '.join(sorted(set(which) - set(BENCHMARKS)))}")
    results: dict[str, object] = {}
    for name in BENCHMARKS:
        if name not in which:
            continue
        # Each in a fresh process: moto keeps its state per process, and timings start clean.
        print(f"running {name}…", file=sys.stderr)
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "reviewpulse_tools.bench.performance",
                "--one",
                name,
                "--rows",
                str(args.rows),
                "--sizes",
                args.sizes,
            ],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            print(done.stderr[-4000:], file=sys.stderr)
            return 1
        results[name] = json.loads(done.stdout.strip().splitlines()[-1])
    print(
        report(
            results.get("pipeline"),
            results.get("memory"),
            results.get("coldstart"),
            results.get("llm"),
            results.get("lexicon"),
        )
    )
    if "insights" in results:
        from reviewpulse_tools.bench.insights import report as insights_report

        print(insights_report(results["insights"]))
    if "wire" in results:
        from reviewpulse_tools.bench.wire import report as wire_report

        print("\n".join(wire_report(results["wire"])))
    if "quote" in results:
        from reviewpulse_tools.bench.spending import report_quote

        print(report_quote(results["quote"]))
    if "budget" in results:
        from reviewpulse_tools.bench.spending import report_budget

        print(report_budget(results["budget"]))
    if "cli" in results:
        from reviewpulse_tools.bench.cli_startup import report as cli_report

        print(cli_report(results["cli"]))
    if "batchapi" in results:
        from reviewpulse_tools.bench.batch_api import report as batch_api_report

        print("\n".join(batch_api_report(results["batchapi"])))
    if "analyze" in results:
        from reviewpulse_tools.bench.sync_analyze import report as analyze_report

        print(analyze_report(results["analyze"]))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


def _bench_insights() -> dict:
    """Always 100,000 rows: the size the insights' targets are set for."""
    from reviewpulse_tools.bench.insights import bench_finalize, bench_flat, bench_footprint

    return {"footprint": bench_footprint(), "flat": bench_flat(), "finalize": bench_finalize(100_000)}


def _bench_wire(rows: int) -> dict:
    from reviewpulse_tools.bench.wire import bench_wire

    return bench_wire(rows)


def _bench_quote() -> dict:
    from reviewpulse_tools.bench.spending import bench_quote

    return bench_quote()


def _bench_budget() -> dict:
    from reviewpulse_tools.bench.spending import bench_budget

    return bench_budget()


def _bench_cli() -> dict:
    from reviewpulse_tools.bench.cli_startup import bench_cli

    return bench_cli()


def _bench_batch_api() -> dict:
    from reviewpulse_tools.bench.batch_api import bench_batch_api

    return bench_batch_api()


def _bench_analyze() -> dict:
    from reviewpulse_tools.bench.sync_analyze import bench_analyze

    return bench_analyze()


def _bench_llm() -> dict:
    from reviewpulse_tools.bench.llm import bench_llm

    return bench_llm()


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
