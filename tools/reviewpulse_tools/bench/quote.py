"""`make bench BENCH=quote`: how near a quote comes to what the run then costs.

Batches of distinct texts through the whole local stack (its llm engine the fake server, which
counts tokens its own BPE-like way): created with options.quote_only, quoted by the splitter,
started with POST /v1/tasks/{id}/start, run to ready; the quote against the usage the server
reported (the task's usage). The sample reviews calibrated the estimate; the labelled sets in
../shared/data (when present) are held out.
"""

from __future__ import annotations

import csv
import io
import time

from reviewpulse_tools.bench.samples import sample_reviews

QUOTE_ROWS = 1_000


def _held_out_texts(count: int) -> tuple[str, list[str]]:
    from reviewpulse_tools.bench.labelled_data import load_sets

    sets = [s for s in load_sets() if s.name in ("vader/amazon", "vader/tweets", "uci/yelp")]
    # Round robin, so that each set has its share of the first `count`.
    texts = [text for group in zip(*(s.texts for s in sets), strict=False) for text in group]
    if len(texts) < count:
        return "", []
    return "+".join(s.name for s in sets), texts[:count]


def _workloads(rows: int, held_out: bool) -> list[tuple[str, list[str], dict]]:
    samples = sample_reviews()
    calibration = [f"{samples[i % len(samples)]} (order {i + 1})" for i in range(rows)]
    workloads = [
        ("sample reviews, llm", calibration, {"engine": "llm"}),
        ("sample reviews, llm, 2 aspects", calibration, {"engine": "llm", "aspects": ["battery", "price"]}),
        ("sample reviews, auto", calibration, {"engine": "auto"}),
    ]
    name, texts = _held_out_texts(rows) if held_out else ("", [])
    if texts:
        workloads += [
            (f"held out ({name}), llm", texts, {"engine": "llm"}),
            (f"held out ({name}), auto", texts, {"engine": "auto"}),
        ]
    return workloads


def bench_quote(rows: int = QUOTE_ROWS, held_out: bool = True, running=None) -> dict:
    """`held_out`: also the labelled sets of ../shared/data when they are there (a quick run in
    `make test` leaves them out: the project's tests use only data the project makes)."""
    import httpx

    from reviewpulse_tools.bench.stack import bench_stack

    figures = []
    with bench_stack(running, fake_llm=True) as running:
        with httpx.Client(base_url=running.api_url, headers={"X-Api-Key": running.api_key}, timeout=60) as api:
            for n, (label, texts, options) in enumerate(_workloads(rows, held_out)):
                # Each workload's texts are new to the result cache, which a quote does not count.
                distinct = [f"{text} [{n}]" for text in texts]
                quote, task = _quote_and_run(api, distinct, options)
                usage = task["usage"]
                progress = task["progress"]
                if (
                    quote["items"] != len(distinct)
                    or progress["processed"] != len(distinct)
                    or not (quote["llm_items"] and usage["requests"])
                ):
                    raise RuntimeError(f"{label}: quoted {quote}, ran {progress} with {usage}")
                figures.append(
                    {
                        "workload": label,
                        "items": quote["items"],
                        "llm_items": quote["llm_items"],
                        "llm_answered": task["answered_by"].get("llm", 0),
                        "requests": (quote["requests"], usage["requests"]),
                        "input_tokens": (quote["input_tokens"], usage["input_tokens"]),
                        "output_tokens": (quote["output_tokens"], usage["output_tokens"]),
                        "cost_usd": (quote["estimated_cost_usd"], usage["estimated_cost_usd"]),
                    }
                )
    return {"runs": figures}


def _quote_and_run(api, texts: list[str], options: dict) -> tuple[dict, dict]:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["review"])
    writer.writerows([text] for text in texts)
    created = api.post("/v1/batches", json={"filename": "q.csv", "options": {**options, "quote_only": True}})
    created.raise_for_status()
    body = created.json()
    upload = body["upload"]
    posted = httpx_post(upload, out.getvalue().encode())
    assert posted in (200, 204), posted
    task_id = body["task"]["task_id"]
    quoted = _wait(api, task_id, ("quoted",))
    assert quoted["status"] == "quoted", quoted
    api.post(f"/v1/tasks/{task_id}/start").raise_for_status()
    done = _wait(api, task_id, ("ready",))
    assert done["status"] == "ready", done
    return quoted["quote"], done


def httpx_post(upload: dict, content: bytes) -> int:
    import httpx

    return httpx.post(upload["url"], data=upload["fields"], files={"file": ("q.csv", content)}, timeout=60).status_code


def _wait(api, task_id: str, statuses: tuple[str, ...], timeout: float = 900) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = api.get(f"/v1/tasks/{task_id}").json()
        if task["status"] in (*statuses, "error", "cancelled"):
            return task
        time.sleep(0.5)
    raise TimeoutError(f"task {task_id} is still {task['status']}")


def _deviation(pair) -> str:
    quoted, reported = pair
    if not reported:
        return "n/a"
    return f"{100 * (quoted - reported) / reported:+.1f}%"


def report_quote(figures: dict) -> str:
    lines = [
        "quote accuracy (quoted vs reported by the server; + = quote above the usage)",
        f"  {'workload':<52} {'items':>6} {'to LLM':>7} {'requests':>12} {'input tok':>10} {'output tok':>10} {'cost':>8}",
    ]
    for run in figures["runs"]:
        lines.append(
            f"  {run['workload']:<52} {run['items']:>6} {run['llm_items']:>4}/{run['llm_answered']:<3}"
            f" {run['requests'][0]:>5}/{run['requests'][1]:<5} {_deviation(run['input_tokens']):>10}"
            f" {_deviation(run['output_tokens']):>10} {_deviation(run['cost_usd']):>8}"
        )
    return "\n".join(lines)
