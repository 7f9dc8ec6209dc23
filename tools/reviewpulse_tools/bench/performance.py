"""`make bench`: the figures the README quotes, measured on this machine in one run.

    lexicon    characters per CPU second of the lexicon engine by text length
    model      a tenant model's scorer against the lexicon on the same texts, chars per CPU second
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
    quote      each workload's quote against what its run then cost (quote.py)
    budget     how far concurrent workers overshoot a task's and a tenant's budget (spending.py)
    cli        `reviewpulse --help` and `status` against a bare interpreter (cli_startup.py)
    batchapi   Batch API mode end to end on 10,000 reviews with 5% failed requests and an expiry
               part-way: exact counts, every row once, cost at the batch price (batch_api.py)
    analyze    POST /v1/analyze's warm latency for 25 short texts against the lexicon analyzer
               alone on the same texts, p50 and p99 (sync_analyze.py)
    cost       dollars per million reviews of 300 characters by engine, priced line by line from
               what a batch per engine used on the local stack (cost.py, prices/)
    power      each function's memory size from its measured peak RSS and CPU time, priced at
               128-3008 MB and chosen as AWS Lambda Power Tuning's balanced strategy does; a full run
               rewrites memory_sizes.json, which tests/unit/test_memory_sizes.py holds the template to;
               quick: one function once, the choice re-made from memory_sizes.json (power.py)
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
import io
import json
import os
import platform
import re
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

from reviewpulse_tools.bench import cold_start, lexicon_speed, pipeline
from reviewpulse_tools.bench.batches import review_csv

# -- splitter memory ---------------------------------------------------------------------------

SPLIT_CHILD = textwrap.dedent(
    """
    import json, os, sys, tracemalloc, threading, boto3
    from reviewpulse.storage.layout import parse_source_key
    from reviewpulse.settings import get_settings
    from reviewpulse.wiring import splitter
    from reviewpulse.usecases.split import SplitObject, split_source
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
    outcome = split_source(SplitObject(parse_source_key(sys.argv[1])), splitter())
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

# -- report ------------------------------------------------------------------------------------


# -- reports -----------------------------------------------------------------------------------


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


# -- the benchmarks, full and quick ------------------------------------------------------------

# In this order in `make bench` and its report. Those marked run on the local stack (a quick run
# shares one stack among them).
BENCHMARKS = (
    "lexicon",
    "model",
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
    "power",
    "scale",
)
# Run in full only when named (`make bench BENCH=scale`): a million rows take about an hour and a
# few GB of free memory, which a plain `make bench` must not need. Quick mode runs it small.
BY_NAME_ONLY = ("scale",)
ON_THE_STACK = ("pipeline", "coldstart", "wire", "quote", "cli", "cost", "power", "scale")
FULL_ROWS, FULL_SIZES = 10_000, "1,100"
# The quick run (`--quick`, in `make test`): every benchmark, every figure, at sizes and counts that
# keep the whole run to a few minutes. Its figures prove the benchmarks work, not how fast.
QUICK_ROWS, QUICK_SIZES = 200, "0.05,0.1"


def run_benchmark(name: str, *, quick: bool, rows: int, sizes_mb: tuple[float, ...], running=None) -> dict:
    """One benchmark's figures; it raises if its work did not happen."""
    from reviewpulse_tools.bench import (
        batch_api,
        cli_startup,
        cost,
        insights,
        llm,
        power,
        quote,
        scale,
        spending,
        sync_analyze,
        wire,
    )

    if name == "lexicon":
        return lexicon_speed.bench_lexicon((100, 1_000), chars=20_000) if quick else lexicon_speed.bench_lexicon()
    if name == "model":
        return lexicon_speed.bench_model((100,), chars=20_000) if quick else lexicon_speed.bench_model()
    if name == "pipeline":
        return pipeline.bench_pipeline(rows, running=running, repeats=1 if quick else 5)
    if name == "memory":
        return bench_split_memory(sizes_mb)
    if name == "coldstart":
        if quick:
            return cold_start.bench_cold_start(
                runs=1, part_runs=1, floor_once=True, sample_every=cold_start.QUICK_SAMPLE_EVERY, running=running
            )
        return cold_start.bench_cold_start()
    if name == "llm":
        return llm.bench_llm(reviews=100, rate_requests=10) if quick else llm.bench_llm()
    if name == "insights":
        return insights.bench_insights(quick=quick)
    if name == "wire":
        return wire.bench_wire(rows, running=running)
    if name == "quote":
        return quote.bench_quote(rows=50, held_out=False, running=running) if quick else quote.bench_quote()
    if name == "budget":
        if quick:
            return spending.bench_budget(chunks_per_worker=2, batch_rows=spending.QUICK_BATCH_ROWS)
        return spending.bench_budget()
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
    if name == "power":
        return power.bench_power(quick=quick, running=running)
    raise ValueError(f"unknown benchmark: {name}")


def report_of(name: str, figures) -> str:
    """The benchmark's table, as the README quotes it."""
    from reviewpulse_tools.bench import (
        batch_api,
        cli_startup,
        cost,
        insights,
        llm,
        power,
        quote,
        scale,
        spending,
        sync_analyze,
        wire,
    )

    reports = {
        "lexicon": lexicon_speed.report_lexicon,
        "model": lexicon_speed.report_model,
        "pipeline": pipeline.report_pipeline,
        "memory": report_memory,
        "coldstart": cold_start.report_cold,
        "llm": lambda f: "\n".join(llm.report(f)),
        "insights": insights.report,
        "wire": lambda f: "\n".join(wire.report(f)),
        "quote": quote.report_quote,
        "budget": spending.report_budget,
        "cli": cli_startup.report,
        "batchapi": lambda f: "\n".join(batch_api.report(f)),
        "analyze": sync_analyze.report,
        "cost": cost.report,
        "power": power.report,
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
    parser.add_argument(
        "which",
        nargs="*",
        help=f"{', '.join(BENCHMARKS)} (default: all; {', '.join(BY_NAME_ONLY)} only when quick or named)",
    )
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
    which = args.which or [name for name in BENCHMARKS if args.quick or name not in BY_NAME_ONLY]
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
