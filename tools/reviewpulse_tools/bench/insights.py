"""Insights benchmarks (`make bench BENCH=insights`, or `python -m reviewpulse_tools.bench.insights`).

- finalize: the same 100,000-row CSV finalized twice under moto, without insight options and
  with three group_by columns, a time_field and themes (options.report): wall time (median of
  alternating runs) and peak traced memory of each.
- flat: the insights builder alone on 25k, 50k and 100k rows: its peak traced memory.
- report: the HTML report's size for the 100,000-row insights.
- footprint: the domain layer's size and the finalizer's and analyzer's import time (fresh
  interpreters, median of 7) at a base commit and now; the dependencies layer is unchanged
  (no new requirement).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

from reviewpulse_tools.local.template import ROOT

BASE_COMMIT = "2603ccb"  # the last commit before insights
TOPICS = [
    ("battery life", "lasts for days", "dies before lunch"),
    ("customer service", "answered within an hour", "never answered my emails"),
    ("delivery", "arrived a day early", "came two weeks late"),
    ("screen", "is bright and sharp", "cracked in a week"),
    ("price", "is fair for what you get", "is far too high"),
    ("lid", "seals tight", "leaks all over my bag"),
    ("setup", "took two minutes", "took an hour of fiddling"),
    ("strap", "is comfortable all day", "gave me a rash"),
]
OPENERS = ["Honestly,", "Overall", "Well,", "So far", "After a month,", ""]
VERDICTS = {True: ["Love it.", "Very happy.", "Great buy."], False: ["Terrible.", "So disappointed.", "Awful."]}


def review_text(rng: random.Random) -> str:
    good = rng.random() < 0.65
    topic, praise, complaint = rng.choice(TOPICS)
    other, *_ = rng.choice(TOPICS)
    return f"{rng.choice(OPENERS)} the {topic} {praise if good else complaint}, and the {other} is ok. {rng.choice(VERDICTS[good])}".strip()


def make_csv(rows: int, seed: int = 7) -> tuple[bytes, list[str]]:
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "product", "store", "region", "review", "created_at"])
    texts = []
    start = date(2026, 1, 1)
    for number in range(1, rows + 1):
        text = review_text(rng)
        texts.append(text)
        when = start + timedelta(days=rng.randrange(180))
        # 300 products (over the 200 listed), 60 stores, 8 regions
        writer.writerow(
            [
                f"r{number}",
                f"product-{rng.randrange(300)}",
                f"store-{rng.randrange(60)}",
                f"region-{rng.randrange(8)}",
                text,
                when.isoformat(),
            ]
        )
    return out.getvalue().encode(), texts


def bench_finalize(rows: int, repeats: int = 2) -> dict:
    import boto3
    from moto import mock_aws
    from reviewpulse.analysis.lexicon_analyzer import LexiconAnalyzer
    from reviewpulse.analysis.options import AnalysisOptions
    from reviewpulse.results.model import ItemResult
    from reviewpulse.settings import get_settings
    from reviewpulse.storage.inputs import InputFiles
    from reviewpulse.storage.result_files import ResultFiles
    from reviewpulse.tasks.model import Progress, Task, TaskStatus, TaskType
    from reviewpulse.tasks.repository import TaskRepository
    from reviewpulse.usecases.finalize import Finalizer, finalize_task

    from reviewpulse_tools.local.provision import provision

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }.items():
        os.environ[name] = value
    content, texts = make_csv(rows)
    analyzer = LexiconAnalyzer()
    labels: dict[str, tuple[str, float]] = {}
    with mock_aws():
        stack = provision(boto3.Session())
        os.environ.update(stack.function_environment("FinalizeFunction"))
        get_settings.cache_clear()
        settings = get_settings()
        s3 = boto3.client("s3")
        result_files = ResultFiles(stack.ref("DataBucket"), s3)
        input_files = InputFiles(stack.ref("DataBucket"), s3)
        tasks = TaskRepository(stack.ref("TasksTable"), boto3.client("dynamodb"))
        chunk = 1000
        plain = AnalysisOptions()
        full = AnalysisOptions(group_by=["product", "store", "region"], time_field="created_at", report=True)

        def prepared(options: AnalysisOptions, run: int) -> Task:
            task_id = f"{run:04x}{'a' if options.report else 'b'}".ljust(28, "0")
            key = f"uploads/acme/{task_id}/reviews.csv"
            etag = s3.put_object(Bucket=result_files.bucket, Key=key, Body=content)["ETag"].strip('"')
            parts = {}
            for index in range(0, rows, chunk):
                results = []
                for offset, text in enumerate(texts[index : index + chunk]):
                    if text not in labels:
                        sentiment = analyzer.analyze_one(text)
                        labels[text] = (sentiment.label.value, sentiment.score)
                    label, score = labels[text]
                    number = index + offset + 1
                    results.append(
                        ItemResult(
                            row=number, id=f"r{number}", label=label, score=score, confidence=0.9, engine="lexicon"
                        )
                    )
                result_files.put_part("acme", task_id, index // chunk, "a1", results)
                parts[str(index // chunk)] = "a1"
            task = Task.new(
                "acme",
                TaskType.BATCH,
                TaskStatus.PROCESSING,
                ttl_days=1,
                task_id=task_id,
                filename="reviews.csv",
                format="csv",
                text_field="review",
                id_field="id",
                source_key=key,
                source_etag=etag,
                columns=["id", "product", "store", "region", "review", "created_at"],
                chunk_count=len(parts),
                parts=parts,
                options=options,
                progress=Progress(total=rows, processed=rows, failed=0),
            )
            tasks.create(task)
            return task

        times: dict[str, list[float]] = {"plain": [], "insights": []}
        peaks: dict[str, int] = {}
        run = 0
        for repeat in range(repeats + 1):  # the first round warms caches and is not counted
            for name, options in (("plain", plain), ("insights", full)):
                run += 1
                task = prepared(options, run)
                traced = repeat == repeats
                if traced:
                    tracemalloc.start()
                started = time.perf_counter()
                assert finalize_task(task, Finalizer(tasks, input_files, result_files, settings))
                elapsed = time.perf_counter() - started
                if traced:
                    peaks[name] = tracemalloc.get_traced_memory()[1]
                    tracemalloc.stop()
                elif repeat:
                    times[name].append(elapsed)
        report_bytes = len(
            s3.get_object(Bucket=result_files.bucket, Key=f"results/acme/{task.task_id}/report.html")["Body"].read()
        )
        insights = json.loads(
            s3.get_object(Bucket=result_files.bucket, Key=f"results/acme/{task.task_id}/insights.json")["Body"].read()
        )
    if not insights.get("themes") or not insights.get("segments"):
        raise RuntimeError(f"the finalize with insights built no themes or segments: {sorted(insights)}")
    plain_s, full_s = statistics.median(times["plain"]), statistics.median(times["insights"])
    return {
        "rows": rows,
        "finalize_plain_s": round(plain_s, 2),
        "finalize_insights_s": round(full_s, 2),
        "time_ratio": round(full_s / plain_s, 2),
        "peak_plain_mb": round(peaks["plain"] / 2**20, 1),
        "peak_insights_mb": round(peaks["insights"] / 2**20, 1),
        "memory_ratio": round(peaks["insights"] / peaks["plain"], 2),
        "report_bytes": report_bytes,
        "themes": [(t["polarity"], t["phrase"], t["count"]) for t in insights["themes"]],
    }


def bench_flat(sizes: tuple[int, ...] = (25_000, 50_000, 100_000)) -> list[dict]:
    """The insights builder alone (segments, time, themes): peak traced memory per size."""
    from reviewpulse.analysis.options import AnalysisOptions
    from reviewpulse.ingest.readers.rows import Row
    from reviewpulse.results.insights_builder import InsightsBuilder
    from reviewpulse.results.model import ItemResult

    options = AnalysisOptions(group_by=["product", "store", "region"], time_field="created_at", report=True)
    columns = ["id", "product", "store", "region", "review", "created_at"]
    figures = []
    for size in sizes:
        content, _ = make_csv(size)
        reader = csv.DictReader(io.StringIO(content.decode()))
        rows = [dict(r) for r in reader]
        tracemalloc.start()
        baseline = tracemalloc.get_traced_memory()[0]
        builder = InsightsBuilder("t", options, columns)
        for number, values in enumerate(rows, start=1):
            label = "positive" if any(v in values["review"] for v in ("Love", "happy", "Great")) else "negative"
            result = ItemResult(row=number, id=values["id"], label=label, score=0.5 if label == "positive" else -0.5)
            builder.add(result, Row(number, values["id"], values["review"], None, values))
        built = builder.build()
        peak = tracemalloc.get_traced_memory()[1] - baseline
        if len(built.segments) != len(options.group_by) or not built.themes:
            raise RuntimeError(f"the insights builder built no segments or themes from {size} rows")
        tracemalloc.stop()
        del rows
        figures.append({"rows": size, "builder_peak_mb": round(peak / 2**20, 2)})
    return figures


def bench_footprint(base: str = BASE_COMMIT, runs: int = 7) -> dict:
    site = next(p for p in sys.path if p.endswith("site-packages"))
    figures = {}
    with tempfile.TemporaryDirectory() as workdir:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", base, "shared"], capture_output=True, check=True
        ).stdout
        tarfile.open(fileobj=io.BytesIO(archive)).extractall(workdir, filter="data")
        for name, shared in (("before", Path(workdir) / "shared"), ("after", ROOT / "shared")):
            size = sum(
                p.stat().st_size
                for p in shared.rglob("*")
                if p.is_file() and "__pycache__" not in p.parts and ".egg-info" not in str(p)
            )
            imports = {}
            # The chunk worker's use case was analyse_chunk before its rename: time whichever the tree has.
            chunk = "analyze_chunk" if (shared / "reviewpulse/usecases/analyze_chunk.py").exists() else "analyse_chunk"
            for module in ("reviewpulse.usecases.finalize", f"reviewpulse.usecases.{chunk}"):
                samples = []
                for _ in range(runs):
                    done = subprocess.run(
                        [
                            sys.executable,
                            "-S",
                            "-c",
                            f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)",
                        ],
                        env={
                            "PATH": os.environ["PATH"],
                            "PYTHONPATH": os.pathsep.join([str(shared), site]),
                            "PYTHONDONTWRITEBYTECODE": "1",
                            "POWERTOOLS_TRACE_DISABLED": "true",
                            "AWS_DEFAULT_REGION": "us-east-1",
                        },
                        capture_output=True,
                        text=True,
                        check=True,
                    )
                    samples.append(float(done.stdout.strip().splitlines()[-1]))
                imports[module.rsplit(".", 1)[1].replace("analyse", "analyze")] = round(
                    statistics.median(samples) * 1000
                )
            figures[name] = {"layer_bytes": size, "import_ms": imports}
    return figures


def bench_insights(quick: bool = False) -> dict:
    """What `make bench` runs: always 100,000 rows, the size the insights' targets are set for; a
    quick run (in `make test`) a few hundred, and one import of each module."""
    if quick:
        return {"footprint": bench_footprint(runs=1), "flat": bench_flat((200, 400)), "finalize": bench_finalize(400)}
    return {"footprint": bench_footprint(), "flat": bench_flat(), "finalize": bench_finalize(100_000)}


def report(figures: dict) -> str:
    f = figures.get("finalize")
    rows = f"{f['rows']:,}-row" if f else "no"
    lines = ["", f"Insights ({rows} finalize, three group_by columns, a time_field, themes)"]
    if f:
        lines += [
            f"  finalize without insights   {f['finalize_plain_s']:>7.2f} s   peak {f['peak_plain_mb']:>7.1f} MB",
            f"  finalize with insights      {f['finalize_insights_s']:>7.2f} s   peak {f['peak_insights_mb']:>7.1f} MB",
            f"  ratio                       {f['time_ratio']:>7.2f}×            {f['memory_ratio']:>7.2f}×  (targets 1.5×, 1.2×)",
            f"  report.html                 {f['report_bytes'] / 1e6:>7.2f} MB  (target 2 MB)",
        ]
    for entry in figures.get("flat", []):
        lines.append(f"  insights builder alone, {entry['rows']:>7,} rows: peak {entry['builder_peak_mb']:.2f} MB")
    fp = figures.get("footprint")
    if fp:
        for name in ("before", "after"):
            imports = ", ".join(f"{m} {ms} ms" for m, ms in fp[name]["import_ms"].items())
            lines.append(f"  {name:<6} domain layer {fp[name]['layer_bytes'] / 1e3:>7.0f} kB; import {imports}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--json", type=Path)
    parser.add_argument("which", nargs="*", default=["finalize", "flat", "footprint"])
    args = parser.parse_args(argv)
    figures: dict = {}
    if "footprint" in args.which:
        figures["footprint"] = bench_footprint()
    if "flat" in args.which:
        figures["flat"] = bench_flat()
    if "finalize" in args.which:
        figures["finalize"] = bench_finalize(args.rows)
    print(report(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
