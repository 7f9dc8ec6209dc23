"""A benchmark's batch on a running stack: realistic reviews as CSV, uploaded and waited for."""

from __future__ import annotations

import csv
import io
import random
import time
from datetime import datetime

from reviewpulse_tools.bench.samples import sample_reviews

# How often run_batch asks for the task's status. Each ask runs GetTaskFunction on the same cores
# as the pipeline (a real client asks from another machine), so it asks rarely: the time it
# returns is the task's own, not when an ask happened to see it (see run_batch).
STATUS_POLL_SECONDS = 0.5


def review_csv(rows: int, seed: int = 7) -> bytes:
    """`rows` realistic reviews: the sample batch's texts, shuffled and numbered."""
    texts = sample_reviews()
    rng = random.Random(seed)  # noqa: S311 (reproducible sample data)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["review_id", "review"])
    for i in range(rows):
        writer.writerow([f"R{i + 1:07d}", rng.choice(texts)])
    return out.getvalue().encode()


def run_batch(api, content: bytes) -> tuple[dict, float]:
    """Create a batch, upload it, and wait for it: the task and the seconds from the start of the
    upload to the moment the task became ready (its `updated_at`, written by the finalizer's
    conditional status change, on this machine's clock), not to the status poll that saw it."""
    import httpx

    created = api.post("/v1/batches", json={"filename": "bench.csv", "id_field": "review_id"}).json()
    upload = created["upload"]
    started = time.time()
    uploaded = httpx.post(upload["url"], data=upload["fields"], files={"file": ("bench.csv", content)}, timeout=120)
    uploaded.raise_for_status()
    while time.time() - started < 600:
        task = api.get(f"/v1/tasks/{created['task']['task_id']}").json()
        if task["status"] in ("ready", "error", "cancelled"):
            ended = datetime.fromisoformat(task["updated_at"]).timestamp()
            return task, ended - started
        time.sleep(STATUS_POLL_SECONDS)
    raise RuntimeError("the benchmark batch did not finish within 10 minutes")
