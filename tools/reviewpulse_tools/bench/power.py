"""`make bench BENCH=power`: each function's memory size chosen from measurement, as AWS Lambda
Power Tuning chooses it (cost and duration at several sizes), but from one run on the local stack.

What runs: a lexicon and an llm batch through the whole local stack (the cost benchmark's
record_run: the pipeline's functions, the API and the stream workers answering them), then every
function with a sample event in events/ that the batches did not run, invoked with it
SAMPLE_INVOCATIONS times; and each function once more in a fresh interpreter (its cold start:
imports and its sample event). Recorded for each function:

- peak RSS: the largest of its local execution environments' VmHWM and its cold start's. The
  local environments are forked from a server that preloaded FastAPI, boto3, Powertools and the
  OpenAI SDK for every function, so a queue function's figure is an upper bound by the few tens
  of MB of those it never imports;
- CPU time per invocation (mean and largest; the local stack records each one) and the cold
  start's CPU time; the AWS calls and LLM requests it waited for.

Priced at each size of SIZES with the cost model's rule (cost.lambda_seconds: CPU at the vCPU
share the memory buys, one vCPU at 1,769 MB, plus the waits), a size is allowed when it has
HEADROOM × peak RSS and its worst case (a cold start and the largest invocation; for the per-file
functions of PER_FILE the largest invocation scaled to a file of MaxUploadBytes) stays within
TIMEOUT_SHARE of the function's Timeout. The chosen size is balanced, as Power Tuning's "balanced"
strategy is: the fastest allowed size whose cost per invocation is within TOLERANCE of the
cheapest allowed one's. A per-file function is priced and timed at that largest file: its cost
and the latency a user waits for are the large file's. A full run rewrites MEASURED (the figures
and the choice): tests/unit/test_memory_sizes.py holds template.yaml's MemorySize to them. The
quick run (`make test`) invokes one function once and re-chooses from MEASURED; it writes nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reviewpulse_tools.bench.cost import FunctionUse, lambda_seconds, load_prices, record_run, reviews_of
from reviewpulse_tools.bench.stack import bench_stack, start_shared_stack

MEASURED = Path(__file__).with_name("memory_sizes.json")
SIZES = (128, 256, 512, 1024, 1769, 3008)
# Lambda kills a function past its memory: room for inputs larger than the measured ones and for
# the allocator's fragmentation over a warm environment's life.
HEADROOM = 1.5
# "Well inside the timeout": the worst case takes at most half of it.
TIMEOUT_SHARE = 0.5
# Balanced: the fastest allowed size costing at most this much more per invocation than the
# cheapest allowed one. The cheapest alone made the analyzer ~6x slower per chunk to save 16 % and
# the finalizer of a 100 MB file take 94 s instead of 14 s (upload -> ready is what users wait for).
TOLERANCE = 0.2
# One invocation per task whose work grows with the file: their largest invocation is scaled from
# the measured batch's bytes to MaxUploadBytes. (The chunk workers' work per invocation is bounded
# by the chunk size, the same at any file size.)
PER_FILE = ("SplitFunction", "FinalizeFunction")
# Functions whose sample event does not do their work: measured, but their size is the template's.
NOT_REPRESENTED = {
    "SplitFunction": "its slowest input is an Excel workbook, about 16× the CPU of the same rows as CSV "
    "(docs/api.md, Input files), which the CSV batch here does not show: at 1,024 MB the largest sheet "
    "already nears its 300 s timeout",
    "TrainModelFunction": "its sample event names a model that is not there, so it fits nothing; a fit's "
    "memory and time are the learning benchmark's (10,000 rows: 580 MB, 178 CPU seconds)",
}
SAMPLE_INVOCATIONS = 5
FULL_ROWS, FULL_LLM_ROWS = 5_000, 500
# The quick run (`make test`, a few seconds): the measuring path on one function, invoked once with
# its sample event, and the choice re-made from MEASURED's recorded figures.
QUICK_FUNCTION = "HealthFunction"

COLD_CPU_CHILD = textwrap.dedent(
    """
    import importlib.util, json, sys, io, contextlib, time
    spec = importlib.util.spec_from_file_location("app", sys.argv[1])
    module = importlib.util.module_from_spec(spec)
    with contextlib.redirect_stdout(io.StringIO()):
        spec.loader.exec_module(module)
        class Context:
            function_name = "bench"; memory_limit_in_mb = 512; aws_request_id = "bench"
            invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
            def get_remaining_time_in_millis(self): return 30000
        module.handler(json.loads(open(sys.argv[2]).read()), Context())
    rss = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
    print(json.dumps({"cpu_s": time.process_time(), "rss_kb": rss}))
    """
)


# -- the choice --------------------------------------------------------------------------------


def price_sizes(
    measured: dict[str, Any], timeout_s: float, prices: dict[str, Any], per_file: bool = False
) -> dict[int, dict[str, Any]]:
    """One function's billed duration, cost per million invocations (x86_64) and worst case at each
    size, and whether the size is allowed (RSS headroom, worst case within TIMEOUT_SHARE of Timeout).
    A per-file function's invocation priced is its largest (the file of MaxUploadBytes), else the mean."""
    per_invocation = max(1, measured["invocations"])
    table: dict[int, dict[str, Any]] = {}
    for size in SIZES:

        def seconds(cpu_s: float, invocations: int = 1, size: int = size) -> float:
            use = FunctionUse(
                invocations=invocations,
                cpu_s=cpu_s,
                memory_mb=size,
                aws_calls=round(measured["aws_calls"] / per_invocation),
                llm_requests=round(measured["llm_requests"] / per_invocation),
                llm_concurrency=measured.get("llm_concurrency", 1),
            )
            return lambda_seconds(use, prices)

        billed = seconds(measured["cpu_worst_s"] if per_file else measured["cpu_mean_s"])
        worst = seconds(measured["cold_cpu_s"] + measured["cpu_worst_s"])
        cost = billed * size / 1024 * prices["lambda"]["gb_second"]["x86_64"] * 1_000_000
        cost += prices["lambda"]["per_million_requests"]
        table[size] = {
            "billed_s": billed,
            "worst_s": worst,
            "usd_per_million": cost,
            "allowed": size >= HEADROOM * measured["peak_rss_mb"] and worst <= TIMEOUT_SHARE * timeout_s,
        }
    return table


def choose(table: dict[int, dict[str, Any]], tolerance: float = TOLERANCE) -> int:
    """Balanced: the fastest allowed size whose cost is within `tolerance` of the cheapest allowed
    one's (the cheaper, then the smaller, on a tie); the largest size when none is allowed."""
    allowed = [size for size, row in table.items() if row["allowed"]]
    if not allowed:
        return max(table)
    cheapest = min(table[size]["usd_per_million"] for size in allowed)
    affordable = [size for size in allowed if table[size]["usd_per_million"] <= cheapest * (1 + tolerance) + 1e-9]
    return min(
        affordable,
        key=lambda size: (round(table[size]["billed_s"], 6), round(table[size]["usd_per_million"], 6), size),
    )


# -- the measurement ---------------------------------------------------------------------------


def bench_power(quick: bool = False, running=None) -> dict[str, Any]:
    from reviewpulse_tools.bench.cold_start import cold_events
    from reviewpulse_tools.local.lambda_environment import read_invocations

    if quick:
        return bench_power_quick(running)
    prices = load_prices()
    rows, llm_rows = FULL_ROWS, FULL_LLM_ROWS
    with bench_stack(running) if running is not None else _Own() as running:
        runner, stack = running.runner, running.stack
        seen = len(read_invocations(runner.records))
        calls_before = {k: sum(v.values()) for k, v in runner.api_calls.items()}
        batches = []
        for engine, count, seed in (("lexicon", rows, 21), ("llm", llm_rows, 22)):
            texts = reviews_of(300, count, seed=seed)
            batches.append(record_run(running, engine, [t if engine == "lexicon" else f"{t[:-4]} [p]" for t in texts]))
        batch_bytes = sum(run.reviews * run.review_chars for run in batches[:1])
        events = cold_events(stack)
        _add_sample_key(running)
        ran = {name for run in batches for name in run.functions}
        failed_samples = {}
        for function, event in sorted(events.items()):
            if function in ran:
                continue
            failed_samples[function] = _invoke_sample(running, function, event)
        records = read_invocations(runner.records)[seen:]
        cold = _cold_starts(running, events)
        llm_uses = {name: use for run in batches for name, use in run.functions.items() if use.llm_requests}
        functions: dict[str, Any] = {}
        max_upload = int(stack.template.parameters.get("MaxUploadBytes") or 104_857_600)
        for function in stack.functions():
            mine = [r for r in records if r.function == function]
            if not mine:
                continue
            cpu = [r.cpu_ms / 1000 for r in mine]
            worst = max(cpu)
            if function in PER_FILE:
                # A line through the smallest invocation (a warm-up's 10 rows: the fixed part) and
                # the largest (the lexicon batch), extended to a file of MaxUploadBytes.
                worst = min(cpu) + (worst - min(cpu)) * max(1.0, max_upload / batch_bytes)
            rss_kb = max(runner.peak_rss_kb.get(function, 0), cold.get(function, {}).get("rss_kb", 0))
            functions[function] = {
                "invocations": len(mine),
                "source": "batch" if function in ran else "sample event",
                "cpu_mean_s": sum(cpu) / len(cpu),
                "cpu_worst_s": worst,
                "cold_cpu_s": cold.get(function, {}).get("cpu_s", 0.0),
                "peak_rss_mb": rss_kb / 1024,
                "aws_calls": sum(runner.api_calls.get(function, {}).values()) - calls_before.get(function, 0),
                "llm_requests": llm_uses[function].llm_requests if function in llm_uses else 0,
                "llm_concurrency": llm_uses[function].llm_concurrency if function in llm_uses else 1,
                "timeout_s": int(stack.function_properties(function).get("Timeout", 3)),
                "memory_mb": int(stack.function_properties(function).get("MemorySize", 128)),
            }
    _choose_all(functions, prices)
    figures = {
        "measured": datetime.now(UTC).strftime("%Y-%m-%d"),
        "command": "make bench BENCH=power",
        "quick": False,
        "rows": rows,
        "llm_rows": llm_rows,
        "headroom": HEADROOM,
        "timeout_share": TIMEOUT_SHARE,
        "tolerance": TOLERANCE,
        "functions": functions,
    }
    # A benchmark raises when its work did not happen: a sample event failed, a function not measured.
    failed = {k: v for k, v in failed_samples.items() if v}
    if failed:
        raise RuntimeError(f"sample events failed: {failed}")
    if missing := set(stack.functions()) - set(functions):
        raise RuntimeError(f"not measured (no sample event in events/?): {sorted(missing)}")
    MEASURED.write_text(json.dumps(_committed(figures), indent=2, sort_keys=True) + "\n")
    return figures


def _choose_all(functions: dict[str, Any], prices: dict[str, Any]) -> None:
    """Each function's sizes priced and its size chosen (the template's for NOT_REPRESENTED)."""
    for function, measured in functions.items():
        table = price_sizes(measured, measured["timeout_s"], prices, per_file=function in PER_FILE)
        measured["chosen_mb"] = measured["memory_mb"] if function in NOT_REPRESENTED else choose(table)
        measured["sizes"] = {str(size): row for size, row in table.items()}  # JSON's keys are strings


def bench_power_quick(running=None) -> dict[str, Any]:
    """`make test`'s run: QUICK_FUNCTION invoked once with its sample event on the stack and its
    CPU time and peak RSS read back as the full run reads them (it raises when the invocation fails
    or is not recorded), then every size priced and chosen again from MEASURED's recorded figures
    (it raises when those lack a function of the template). Writes nothing."""
    from reviewpulse_tools.bench.cold_start import cold_events
    from reviewpulse_tools.local.lambda_environment import read_invocations

    recorded = json.loads(MEASURED.read_text())
    with bench_stack(running) if running is not None else _Own() as running:
        runner, stack = running.runner, running.stack
        seen = len(read_invocations(runner.records))
        error = _invoke_sample(running, QUICK_FUNCTION, cold_events(stack)[QUICK_FUNCTION], invocations=1)
        mine = [r for r in read_invocations(runner.records)[seen:] if r.function == QUICK_FUNCTION]
        rss_kb = runner.peak_rss_kb.get(QUICK_FUNCTION, 0)
        missing = set(stack.functions()) - set(recorded["functions"])
    if error or not mine or not rss_kb:
        raise RuntimeError(f"{QUICK_FUNCTION} not measured: error {error!r}, {len(mine)} invocations, {rss_kb} kB")
    if missing:
        raise RuntimeError(f"not in {MEASURED.name} (run `make bench BENCH=power`): {sorted(missing)}")
    functions = {name: dict(m) for name, m in recorded["functions"].items()}
    _choose_all(functions, load_prices())
    return {
        **{k: recorded[k] for k in ("measured", "command", "rows", "llm_rows", "headroom", "timeout_share")},
        "tolerance": TOLERANCE,
        "quick": True,
        "probe": {"function": QUICK_FUNCTION, "cpu_s": mine[0].cpu_ms / 1000, "peak_rss_mb": rss_kb / 1024},
        "functions": functions,
    }


def _committed(figures: dict[str, Any]) -> dict[str, Any]:
    """What the repository keeps: the figures the choice and its test need, rounded."""
    keep = (
        *("invocations", "source", "cpu_mean_s", "cpu_worst_s", "cold_cpu_s", "peak_rss_mb", "chosen_mb"),
        *("aws_calls", "llm_requests", "llm_concurrency", "timeout_s", "memory_mb"),
    )
    return {
        **{
            k: figures[k] for k in ("measured", "command", "rows", "llm_rows", "headroom", "timeout_share", "tolerance")
        },
        "functions": {
            name: {k: round(v, 4) if isinstance(v, float) else v for k, v in m.items() if k in keep}
            for name, m in sorted(figures["functions"].items())
        },
    }


def _invoke_sample(running, function: str, event: Path, invocations: int = SAMPLE_INVOCATIONS) -> str:
    """The sample event `invocations` times; the error type if the function raised (the
    authorizer's Unauthorized is an answer)."""
    from reviewpulse_tools.bench.cold_start import replayed
    from reviewpulse_tools.local.lambda_ import FunctionError

    payload = json.loads(replayed(running.stack, function, event, Path(tempfile.mkdtemp())).read_text())
    error = ""
    for _ in range(invocations):
        try:
            running.runner.invoke(function, payload)
        except FunctionError as exc:
            error = str(exc)[:200]
    return error


def _add_sample_key(running) -> None:
    """The authorizer's sample event's key, stored for the tenant the sample events name."""
    import boto3
    from reviewpulse.tenants.keys import KeyRepository

    from reviewpulse_tools.local.template import ROOT

    sample_key = json.loads((ROOT / "events" / "authorizer.json").read_text())["headers"]["X-Api-Key"]
    KeyRepository(running.stack.ref("KeysTable"), boto3.client("dynamodb")).add(sample_key, "example")


def _cold_starts(running, events: dict[str, Path]) -> dict[str, dict[str, float]]:
    """Each function's cold start in a fresh interpreter, as cold_start.py runs it: CPU seconds of
    the whole process (interpreter, imports, its sample event) and its peak RSS."""
    from reviewpulse_tools.bench.cold_start import replayed
    from reviewpulse_tools.local.template import ROOT

    work = Path(tempfile.mkdtemp())
    (work / "child.py").write_text(COLD_CPU_CHILD)
    site = next(p for p in sys.path if p.endswith("site-packages"))
    base = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": os.pathsep.join([str(ROOT / "shared"), site]),
        "POWERTOOLS_TRACE_DISABLED": "false",
        "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
    aws = {k: v for k, v in running.runner.extra_environment.items() if k.startswith("AWS_")}
    measured = {}
    for function in sorted(events):
        app = running.stack.function_code_dir(function) / "app.py"
        event = replayed(running.stack, function, events[function], work)
        done = subprocess.run(  # noqa: S603 (our own interpreter and files)
            [sys.executable, "-S", str(work / "child.py"), str(app), str(event)],
            env={**base, **running.stack.function_environment(function), **aws},
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{function}'s cold start failed: {done.stderr[-2000:]}")
        measured[function] = json.loads(done.stdout.strip().splitlines()[-1])
    return measured


class _Own:
    def __enter__(self):
        self._running = start_shared_stack()
        return self._running

    def __exit__(self, *exc):
        self._running.stop()


# -- the report --------------------------------------------------------------------------------


def report(figures: dict[str, Any]) -> str:
    sizes = " | ".join(f"{size} MB" for size in SIZES)
    lines = [
        f"**Memory per function** ({figures['command']}, {figures['measured']}; a {figures['rows']:,}-review lexicon "
        f"and a {figures['llm_rows']:,}-review llm batch, the other functions their sample event): x86_64 dollars per "
        f"million invocations at each size, `-` where the size lacks {figures['headroom']}× the peak RSS or the worst "
        f"case passes {figures['timeout_share']:.0%} of the timeout (the splitter and the finalizer priced at a file of "
        f"MaxUploadBytes); **bold** the size chosen: the fastest within {figures['tolerance']:.0%} of the cheapest.",
        "",
        f"| function | peak RSS | CPU per invocation (worst) | cold start CPU | template now | {sizes} |",
        "|---|---|---|---|---|" + "---|" * len(SIZES),
    ]
    for name, m in sorted(figures["functions"].items()):
        cells = []
        for size in SIZES:
            row = m["sizes"][str(size)]
            cell = f"${row['usd_per_million']:.2f}" if row["allowed"] else "-"
            cells.append(f"**{cell}**" if size == m["chosen_mb"] and name not in NOT_REPRESENTED else cell)
        lines.append(
            f"| {name} | {m['peak_rss_mb']:.0f} MB | {m['cpu_mean_s'] * 1000:.1f} ms ({m['cpu_worst_s'] * 1000:.0f} ms) "
            f"| {m['cold_cpu_s'] * 1000:.0f} ms | {m['memory_mb']} MB | " + " | ".join(cells) + " |"
        )
    lines += ["", *(f"{name}: kept at its template size, {why}." for name, why in NOT_REPRESENTED.items())]
    if probe := figures.get("probe"):
        lines += [
            "",
            f"Quick run: the table re-chosen from {MEASURED.name} (measured {figures['measured']}); "
            f"{probe['function']} invoked once: {probe['cpu_s'] * 1000:.0f} ms CPU, {probe['peak_rss_mb']:.0f} MB peak RSS.",
        ]
    return "\n".join(lines)
