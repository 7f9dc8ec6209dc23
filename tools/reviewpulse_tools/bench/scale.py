"""`make bench BENCH=scale`: a million-row CSV (about 100 MB) end to end on the local stack.

On one stack (its usage plan raised for the paging, MaxUploadBytes raised above the file), a
10,000-row batch first and then the 1,000,000-row one, each uploaded and run to ready. For the
large one: upload → ready and rows per second; every row exactly once (the results paged through
to the end, every id seen once); the merged results (JSONL and CSV) and the report produced; and
the splitter's and the finalizer's peak memory (their execution environments' VmHWM) after each
run, the large against the small (target ≤ 1.2×). Environments live on between the two runs, as
warm Lambda ones do, so each peak is the largest either run reached.
"""

from __future__ import annotations

import time
from typing import Any

from reviewpulse_tools.bench.batches import review_csv

SMALL, LARGE = 10_000, 1_000_000
QUICK_SMALL, QUICK_LARGE = 100, 1_000
PAGE = 1000
WATCHED = ("SplitFunction", "AnalyzeChunkFunction", "FinalizeFunction", "GetResultsFunction")


def bench_scale(small: int = SMALL, large: int = LARGE, running=None) -> dict[str, Any]:
    """`running`: a shared stack (the quick run's, whose files are far below MaxUploadBytes), left
    running; else a stack of its own with MaxUploadBytes raised above the large file."""
    import boto3
    import httpx

    from reviewpulse_tools.bench.stack import RAISED_THROTTLE, start_stack

    content = review_csv(large)
    overrides = {**RAISED_THROTTLE, "MaxUploadBytes": str(max(2 * len(content), 100 * 1024 * 1024))}
    own = running is None
    running = start_stack(parameter_overrides=overrides) if own else running
    try:
        runs = {}
        with httpx.Client(base_url=running.api_url, headers={"X-Api-Key": running.api_key}, timeout=300) as api:
            for rows, body in ((small, review_csv(small)), (large, content)):
                runs[str(rows)] = _one(api, running, rows, body, boto3.client("s3"))
    finally:
        if own:
            running.stop()
    small_rss, large_rss = runs[str(small)]["peak_rss_kb"], runs[str(large)]["peak_rss_kb"]
    ratios = {name: large_rss[name] / small_rss[name] for name in WATCHED if small_rss.get(name)}
    return {"small": small, "large": large, "bytes": len(content), "runs": runs, "rss_ratio": ratios}


def _one(api, running, rows: int, content: bytes, s3) -> dict[str, Any]:
    import httpx

    before = dict(running.runner.invocations)
    created = api.post("/v1/batches", json={"filename": "scale.csv", "id_field": "review_id"})
    created.raise_for_status()
    body = created.json()
    task_id, upload = body["task"]["task_id"], body["upload"]
    started = time.perf_counter()
    httpx.post(
        upload["url"], data=upload["fields"], files={"file": ("scale.csv", content)}, timeout=900
    ).raise_for_status()
    uploaded = time.perf_counter() - started
    while True:
        task = api.get(f"/v1/tasks/{task_id}").json()
        if task["status"] in ("ready", "error", "cancelled"):
            break
        if time.perf_counter() - started > 3 * 3600:
            raise TimeoutError(f"the {rows:,}-row batch is still {task['status']} after 3 hours")
        time.sleep(1)
    elapsed = time.perf_counter() - started
    progress = task["progress"]
    if task["status"] != "ready" or (progress["total"], progress["processed"], progress["failed"]) != (rows, rows, 0):
        raise RuntimeError(f"the {rows:,}-row batch ended {task['status']} with {progress}")
    # Every row exactly once: page through to the end and see each id once.
    paging = time.perf_counter()
    seen: set[str] = set()
    duplicates = pages = 0
    cursor = None
    while True:
        params = {"limit": str(PAGE), "fields": "id,label", **({"cursor": cursor} if cursor else {})}
        response = api.get(f"/v1/tasks/{task_id}/results", params=params)
        response.raise_for_status()
        page = response.json()
        pages += 1
        for item in page["items"]:
            duplicates += item["id"] in seen
            seen.add(item["id"])
        if not (cursor := page["next_cursor"]):
            break
    paged = time.perf_counter() - paging
    expected = {f"R{i + 1:07d}" for i in range(rows)}
    if duplicates or seen != expected:
        raise RuntimeError(
            f"the {rows:,}-row batch's results: {len(seen):,} distinct ids, {duplicates} repeated,"
            f" {len(expected - seen):,} missing"
        )
    bucket = running.stack.ref("DataBucket")
    from reviewpulse.storage.layout import report_key, results_keys

    produced = {}
    for key in (*results_keys(running.tenant, task_id), report_key(running.tenant, task_id)):
        produced[key.rsplit("/", 1)[-1]] = s3.head_object(Bucket=bucket, Key=key)["ContentLength"]
    runner = running.runner
    return {
        "rows": rows,
        "upload_s": uploaded,
        "upload_to_ready_s": elapsed,
        "rows_per_s": rows / elapsed,
        "pages": pages,
        "paging_s": paged,
        "produced_bytes": produced,
        "peak_rss_kb": {name: runner.peak_rss_kb.get(name, 0) for name in WATCHED},
        "invocations": {name: runner.invocations.get(name, 0) - before.get(name, 0) for name in WATCHED},
    }


def report(f: dict[str, Any]) -> str:
    small, large = f["runs"][str(f["small"])], f["runs"][str(f["large"])]
    lines = [
        f"**{f['large']:,} rows end to end** (`make bench BENCH=scale`: a {f['bytes'] / 1024 / 1024:.0f} MB CSV on the"
        f" local stack, after a {f['small']:,}-row run on the same stack):",
        "",
        "| figure | " + f"{f['small']:,} rows | {f['large']:,} rows |",
        "|---|---|---|",
        f"| upload → ready | {small['upload_to_ready_s']:.1f} s | {large['upload_to_ready_s']:.1f} s |",
        f"| rows per second | {small['rows_per_s']:,.0f} | {large['rows_per_s']:,.0f} |",
        f"| results paged to the end (pages of {PAGE:,}, every id once) | {small['pages']} pages, "
        f"{small['paging_s']:.1f} s | {large['pages']} pages, {large['paging_s']:.1f} s |",
        "| merged results and report | "
        + " | ".join(
            ", ".join(f"{k} {v / 1024 / 1024:.1f} MB" for k, v in r["produced_bytes"].items()) for r in (small, large)
        )
        + " |",
    ]
    for name in WATCHED:
        ratio = f["rss_ratio"].get(name)
        lines.append(
            f"| {name} peak RSS (invocations) | {small['peak_rss_kb'][name] / 1024:.0f} MB ({small['invocations'][name]}) "
            f"| {large['peak_rss_kb'][name] / 1024:.0f} MB ({large['invocations'][name]}), "
            f"{ratio:.2f}×{' (target ≤ 1.2×)' if name in ('SplitFunction', 'FinalizeFunction') else ''} |"
        )
    return "\n".join(lines)
