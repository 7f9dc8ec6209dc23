"""`make bench BENCH=wire`: bytes on the wire for paging all results of a ready task on the local
stack (the gateway compresses as the template's MinimumCompressionSize says), with and without
compression and `fields=id,label`, and what polling an unchanged task costs with its ETag.

Body bytes as received (httpx's num_bytes_downloaded: after any Content-Encoding, before decoding);
headers are left out, a few hundred bytes per answer either way.
"""

from __future__ import annotations

PAGE = 1000  # the largest page the API gives
VARIANTS = {
    "full, uncompressed": ({"Accept-Encoding": "identity"}, None),
    "full, gzip": ({"Accept-Encoding": "gzip"}, None),
    "full, deflate": ({"Accept-Encoding": "deflate"}, None),
    "fields=id,label, uncompressed": ({"Accept-Encoding": "identity"}, "id,label"),
    "fields=id,label, gzip": ({"Accept-Encoding": "gzip"}, "id,label"),
}


def bench_wire(rows: int, running=None) -> dict:
    import httpx

    from reviewpulse_tools.bench.batches import review_csv, run_batch
    from reviewpulse_tools.bench.stack import RAISED_THROTTLE, bench_stack

    # The usage plan stays on; the rate is raised so the bench measures bytes, not waits.
    with bench_stack(running, parameter_overrides=RAISED_THROTTLE) as running:
        with httpx.Client(base_url=running.api_url, headers={"X-Api-Key": running.api_key}, timeout=60) as api:
            task, _ = run_batch(api, review_csv(rows))
            assert task["status"] == "ready", task
            task_id = task["task_id"]
            pages = {name: _page_all(api, task_id, headers, fields) for name, (headers, fields) in VARIANTS.items()}
            view = api.get(f"/v1/tasks/{task_id}", headers={"Accept-Encoding": "identity"})
            poll = api.get(
                f"/v1/tasks/{task_id}", headers={"Accept-Encoding": "identity", "If-None-Match": view.headers["etag"]}
            )
            assert poll.status_code == 304, poll.status_code
    counts = {name: found["items"] for name, found in pages.items()}
    if set(counts.values()) != {rows}:
        raise RuntimeError(f"not every variant paged all {rows} rows: {counts}")
    full = pages["full, uncompressed"]["bytes"]
    return {
        "rows": rows,
        "pages": pages["full, uncompressed"]["pages"],
        "bytes": {name: found["bytes"] for name, found in pages.items()},
        "gzip_ratio": pages["full, gzip"]["bytes"] / full,
        "deflate_ratio": pages["full, deflate"]["bytes"] / full,
        "fields_ratio": pages["fields=id,label, uncompressed"]["bytes"] / full,
        "fields_gzip_ratio": pages["fields=id,label, gzip"]["bytes"] / full,
        "task_view_bytes": view.num_bytes_downloaded,
        "not_modified_bytes": poll.num_bytes_downloaded,
    }


def _page_all(api, task_id: str, headers: dict[str, str], fields: str | None) -> dict:
    total = items = pages = 0
    cursor = None
    while True:
        params = {
            "limit": str(PAGE),
            **({"cursor": cursor} if cursor else {}),
            **({"fields": fields} if fields else {}),
        }
        response = api.get(f"/v1/tasks/{task_id}/results", params=params, headers=headers)
        response.raise_for_status()
        expected = headers["Accept-Encoding"]
        assert response.headers.get("content-encoding", "identity") == expected, response.headers
        total += response.num_bytes_downloaded
        page = response.json()
        items += len(page["items"])
        pages += 1
        if not (cursor := page["next_cursor"]):
            return {"bytes": total, "items": items, "pages": pages}


def report(w: dict) -> list[str]:
    full = w["bytes"]["full, uncompressed"]
    return [
        f"**Bytes on the wire, paging all results of a {w['rows']:,}-row task** ({w['pages']} pages of "
        f"{PAGE:,}, local stack, response bodies as received):",
        "",
        "| request | bytes | ÷ full uncompressed | target |",
        "|---|---|---|---|",
        *(
            f"| {name} | {count:,} | {count / full:.3f} | {'≤ 0.25' if name == 'full, gzip' else ''} |"
            for name, count in w["bytes"].items()
        ),
        "",
        f"Polling the ready task: {w['task_view_bytes']:,} body bytes for a 200, "
        f"{w['not_modified_bytes']} for the 304 that If-None-Match with its ETag gets.",
        "",
    ]
