"""The report at 100,000 rows with everything the analyst's loop asks of it
(`python -m reviewpulse_tools.bench.report_scale [--rows N]`): three group_by columns, a time_field,
themes, eight categories and two periods compared (options.compare), so trends per segment,
categories per segment and over time and the texts behind the example ids are all on the page.

Measures the insights builder's time over the rows (as the finalizer feeds it, without S3) with and
without the loop's options (alternating, median of 2 each: on a shared machine the ratio means more
than the seconds), wall and CPU seconds (the process's own, which the machine's load inflates least), with --memory its peak traced memory, the page's rendering time and size, and
how long headless Chromium takes to open it (load event, then a full-page layout), median of 3. The rows are bench/insights.py's synthetic
reviews (300 products, 60 stores, 8 regions over 180 days).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

from reviewpulse_tools.bench.insights import TOPICS, make_csv

CHROMIUM = Path("/usr/bin/chromium")


LOOP = {"categories": {topic.split()[0]: [topic] for topic, _, _ in TOPICS}, "compare": {"at": "2026-04-01"}}


def build(rows: list[dict], loop: bool, memory: bool = False):
    """The insights of `rows` (with the loop's categories and periods, or without), the summary,
    the builder (for its report items), the seconds it took and, with `memory`, its traced peak."""
    from reviewpulse.analysis.options import AnalysisOptions
    from reviewpulse.ingest.readers.rows import Row
    from reviewpulse.results.insights_builder import InsightsBuilder
    from reviewpulse.results.model import ItemResult
    from reviewpulse.results.summary_builder import SummaryBuilder

    base = {"group_by": ["product", "store", "region"], "time_field": "created_at", "report": True}
    options = AnalysisOptions(**base, **(LOOP if loop else {}))
    summary = SummaryBuilder()
    if memory:
        tracemalloc.start()
    started, cpu = time.perf_counter(), time.process_time()
    builder = InsightsBuilder("t", options, list(rows[0]))
    for number, values in enumerate(rows, start=1):
        label = "positive" if any(v in values["review"] for v in ("Love", "happy", "Great")) else "negative"
        result = ItemResult(row=number, id=values["id"], label=label, score=0.5 if label == "positive" else -0.5)
        summary.add(result)
        builder.add(result, Row(number, values["id"], values["review"], None, values))
    insights = builder.build()
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    peak = tracemalloc.get_traced_memory()[1] if memory else None
    if memory:
        tracemalloc.stop()
    return insights, summary, builder, (seconds, cpu), peak


def measure(rows: int, memory: bool = False) -> dict:
    from reviewpulse.results.report_html import render_report

    content, _ = make_csv(rows)
    parsed = [dict(r) for r in csv.DictReader(io.StringIO(content.decode()))]
    build(parsed[:1000], loop=True)  # warm-up: imports, the lexicon's word list
    # Alternating, so that the machine's load weighs on both alike
    times: dict[bool, list[float]] = {False: [], True: []}
    cpu: dict[bool, list[float]] = {False: [], True: []}
    for loop in (False, True, False, True):
        insights, summary, builder, (seconds, cpu_seconds), _ = build(parsed, loop)
        times[loop].append(seconds)
        cpu[loop].append(cpu_seconds)
    if insights.comparison is None or not insights.time.segments or not insights.categories[0].segments:
        raise RuntimeError("the insights lack the comparison, the trends or the category cuts")
    peak = build(parsed, True, memory=True)[4] if memory else None
    started = time.perf_counter()
    page = render_report(
        task_id="t",
        filename="bench.csv",
        created_at="2026-12-06T00:00:00",
        engine="lexicon",
        summary=summary.build(),
        insights=insights,
        report=None,
        items=builder.report_items,
    )
    rendered = time.perf_counter() - started
    without, with_loop = statistics.median(times[False]), statistics.median(times[True])
    cpu_without, cpu_with = statistics.median(cpu[False]), statistics.median(cpu[True])
    return {
        "rows": rows,
        "build_s_without_loop": round(without, 2),
        "build_s_with_loop": round(with_loop, 2),
        "ratio": round(with_loop / without, 2),
        # CPU seconds of this process: what the load of a shared machine inflates least
        "build_cpu_s_without_loop": round(cpu_without, 2),
        "build_cpu_s_with_loop": round(cpu_with, 2),
        "cpu_ratio": round(cpu_with / cpu_without, 2),
        "builder_peak_mb": round(peak / 2**20, 1) if peak is not None else None,
        "render_s": round(rendered, 3),
        "report_bytes": len(page.encode()),
        "insights_bytes": len(insights.to_json()),
        "browser_open_s": browser_open(page),
    }


def browser_open(page: str, runs: int = 3) -> float | None:
    """Median seconds for headless Chromium to load the page and lay all of it out."""
    if not CHROMIUM.exists():
        return None
    from playwright.sync_api import sync_playwright

    times = []
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        path = Path(folder) / "report.html"
        path.write_text(page)
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox"])
        for _ in range(runs):
            tab = browser.new_page(viewport={"width": 1280, "height": 900})
            started = time.perf_counter()
            tab.goto(path.as_uri())
            tab.wait_for_load_state("load")
            tab.evaluate("document.documentElement.scrollHeight")  # forces the whole page's layout
            times.append(time.perf_counter() - started)
            tab.close()
        browser.close()
    return round(statistics.median(times), 2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--memory", action="store_true", help="also trace the builder's peak memory (slow)")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.rows, memory=args.memory), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
