"""`make bench`'s pipeline: a batch of reviews on the local stack, from upload to ready: the AWS
API calls per review (counted with botocore's event hooks, so the count is exact), the time it took,
and the analyzer alone on the same texts.

Upload → ready runs from the start of the upload to the task's own ready time (its `updated_at`),
not to the status poll that saw it; the client asks twice a second (batches.py), since each ask
runs GetTaskFunction on the cores the pipeline runs on. Every analyzer environment the stack may
run is started before the timed batch, as after any earlier batch of a deployed stack: started
lazily, the second one's cold start (an interpreter importing boto3, Powertools and VADER) fell
inside the timed run and took CPU from the pipeline on this 2-core machine, where Lambda would
start it on other hardware."""

from __future__ import annotations

import csv
import io
import json
import statistics
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from reviewpulse_tools.bench.batches import review_csv
from reviewpulse_tools.bench.batches import run_batch as _run_batch
from reviewpulse_tools.bench.stack import bench_stack
from reviewpulse_tools.local.template import ROOT

ANALYZER = "AnalyzeChunkFunction"
# The warm-up batch: a few chunks of the default CHUNK_MAX_ITEMS (1,000), for every environment.
WARM_ROWS = 4000
# Before each timed batch: the batch before it announces its end (PublishTaskEventsFunction, then
# DeliverWebhooksFunction: 0.4 s of CPU, seen inside the first timed batch on this 2-core machine,
# where AWS runs them on machines of their own). Their pollers wait at most a second between reads.
SETTLE_S = 3.0


def bench_pipeline(rows: int, running=None, repeats: int = 1) -> dict:
    """`repeats` timed batches (and as many timings of the analyzer alone): their medians make the
    ratio, since one batch's moves by ±10 % on a quiet machine. The counts and CPU figures are the
    last batch's."""
    import httpx
    from reviewpulse.analysis.lexicon_analyzer import LexiconAnalyzer

    with bench_stack(running) as running:
        poller_calls = Counter()
        original_poll = running.poller.poll_once

        def counted_poll(trigger, wait_seconds=0):
            handled = original_poll(trigger, wait_seconds)
            poller_calls["sqs:ReceiveMessage"] += 1
            poller_calls["sqs:DeleteMessageBatch"] += 1 if handled else 0
            return handled

        end_to_end_runs = []
        try:
            content = review_csv(rows)
            texts = [row["review"] for row in csv.DictReader(io.StringIO(content.decode()))]
            headers = {"X-Api-Key": running.api_key}
            with httpx.Client(base_url=running.api_url, headers=headers, timeout=60) as api:
                # Warm every function first (imports, botocore models), as a deployed stack would be:
                # every analyzer environment started, then a batch of a few chunks, so that each
                # has most likely analysed one (a new environment's first chunk loads its clients).
                warm_environments(running.runner, ANALYZER)
                _run_batch(api, review_csv(min(rows, WARM_ROWS), seed=1))
                for _ in range(repeats):
                    time.sleep(SETTLE_S)
                    timed_from = time.time()
                    running.runner.busy_seconds.clear()
                    running.runner.cpu_seconds.clear()
                    running.runner.invocations.clear()
                    running.runner.api_calls.clear()
                    poller_calls.clear()
                    running.poller.poll_once = counted_poll
                    task, end_to_end = _run_batch(api, content)
                    running.poller.poll_once = original_poll
                    end_to_end_runs.append(end_to_end)
                    _check_analysed(task, rows)
        finally:
            running.poller.poll_once = original_poll  # a shared stack goes on to other benchmarks
        api_calls = {function: dict(counts) for function, counts in running.runner.api_calls.items()}
        busy_seconds = dict(running.runner.busy_seconds)
        cpu_seconds = dict(running.runner.cpu_seconds)
        invocations = dict(running.runner.invocations)
        environments = running.runner.environments(ANALYZER)
        first_invocations = _first_invocations(running.runner.records, since=timed_from)
        # The analyzer alone while the stack still runs (idle), as it always was measured.
        analyzer = LexiconAnalyzer()
        alone_runs = []
        for _ in range(repeats):
            started = time.perf_counter()
            analysed = analyzer.analyze(texts)
            alone_runs.append(time.perf_counter() - started)
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
        "repeats": repeats,
        "end_to_end_s": statistics.median(end_to_end_runs),
        "end_to_end_runs": end_to_end_runs,
        "analyzer_alone_s": statistics.median(alone_runs),
        "analyzer_alone_runs": alone_runs,
        "ratio": statistics.median(end_to_end_runs) / statistics.median(alone_runs),
        "function_calls": function_calls,
        "calls_per_review": function_calls / rows,
        "mapping_calls": sum(poller_calls.values()),
        "all_calls_per_review": (function_calls + sum(poller_calls.values())) / rows,
        "by_operation": dict(calls.most_common()),
        "by_function": dict(by_function.most_common()),
        "progress": task["progress"],
        "busy_s": dict(sorted(busy_seconds.items(), key=lambda kv: -kv[1])),
        "cpu_s": dict(sorted(cpu_seconds.items(), key=lambda kv: -kv[1])),
        "invocations": invocations,
        "analyzer_environments": environments,
        "first_invocations": first_invocations,
    }


def _check_analysed(task: dict, rows: int) -> None:
    progress = task["progress"]
    if task["status"] != "ready" or (progress["total"], progress["processed"], progress["failed"]) != (rows, rows, 0):
        raise RuntimeError(f"the pipeline did not analyse its {rows} reviews: {task['status']}, {progress}")


def _first_invocations(records: str | None, since: float) -> dict[str, int]:
    """Function → invocations of the timed run that were an environment's first (its records)."""
    if records is None:
        return {}
    first: Counter = Counter()
    with open(records) as lines:
        for line in lines:
            record = json.loads(line)
            if record["started"] >= since and record["cold"]:
                first[record["function"]] += 1
    return dict(first)


def warm_environments(runner, function: str, timeout: float = 600) -> int:
    """Start every execution environment `function` may have on this stack (its limit), each by
    answering the function's sample event from events/ (a chunk of a task that does not exist
    here: skipped after one read), and wait until all are idle. Returns how many there are."""
    event = json.loads((ROOT / "events" / "analyze_chunk.json").read_text())
    limit = runner.limit(function)
    # At once, so that each finds the others busy and the runner starts one more.
    with ThreadPoolExecutor(max_workers=limit) as pool:
        list(pool.map(lambda _: runner.invoke(function, event), range(limit)))
    deadline = time.monotonic() + timeout
    # An invocation may have taken an environment that came free before its own had started.
    while runner.idle_environments(function) < limit:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{function}'s {limit} environments were not all idle within {timeout:.0f} s")
        time.sleep(0.1)
    return limit


def _median_of(p: dict) -> str:
    return f", median of {p['repeats']} batches" if p.get("repeats", 1) > 1 else ""


def _range(p: dict, runs: str) -> str:
    values = p.get(runs, [])
    return f" ({min(values):.2f}–{max(values):.2f})" if len(values) > 1 else ""


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
            f"| upload → ready (the task's own ready time){_median_of(p)} | {p['end_to_end_s']:.2f} s{_range(p, 'end_to_end_runs')} | |",
            f"| analyzer alone on the same texts{_median_of(p)} | {p['analyzer_alone_s']:.2f} s{_range(p, 'analyzer_alone_runs')} | |",
            f"| ratio{' of the medians' if p.get('repeats', 1) > 1 else ''} | {p['ratio']:.2f}× | ≤ 1.5× |",
            "",
            "Calls by operation: " + ", ".join(f"{k} {v}" for k, v in p["by_operation"].items()),
            "",
            "Calls by function: " + ", ".join(f"{k} {v}" for k, v in p["by_function"].items()),
            "",
            "Time inside each function's handlers (functions run in their own processes, the analyzer in"
            f" {p['analyzer_environments']}, so these overlap): "
            + ", ".join(f"{k} {v:.2f} s" for k, v in p["busy_s"].items())
            + ".",
            "",
            "CPU time of each function's handlers (invocations): "
            + ", ".join(f"{k} {v:.2f} s ({p['invocations'].get(k, 0)})" for k, v in p["cpu_s"].items())
            + ". An environment's first invocation inside the timed run: "
            + (", ".join(f"{k} {v}" for k, v in p["first_invocations"].items()) or "none")
            + ".",
        ]
    )
