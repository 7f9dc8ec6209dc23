"""The read commands: `status`, `results`, `tasks` (each with --output table|json|csv) and `report`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from reviewpulse_cli.connect import add_api_options, open_client
from reviewpulse_cli.errors import ApiError, UsageError
from reviewpulse_cli.output import add_output_option, write_record, write_rows

TASK_STATUSES = ("accepted", "queued", "processing", "quoted", "paused", "ready", "error", "cancelled")
TASK_COLUMNS = ("task_id", "type", "status", "created_at", "total", "processed", "failed", "filename")
RESULT_COLUMNS = ("row", "id", "label", "score", "confidence", "engine", "error_code", "error_detail")
# The API's largest pages (GET /v1/tasks and GET /v1/tasks/{id}/results).
TASKS_PAGE_MAX = 200
RESULTS_PAGE_MAX = 1000


def register(commands: argparse._SubParsersAction) -> None:
    status = add_api_options(commands.add_parser("status", help="a task's status, progress and summary"))
    status.add_argument("task_id")
    add_output_option(status)
    status.set_defaults(run=status_command)

    results = add_api_options(commands.add_parser("results", help="a task's per-item results"))
    results.add_argument("task_id")
    results.add_argument("--limit", type=_positive, default=100, help="how many items (default: 100)")
    results.add_argument("--all", action="store_true", help="every item, following the pages to the end")
    results.add_argument("--out", type=Path, help="write the full results file (.csv or .jsonl) instead")
    results.add_argument("--force", action="store_true", help="overwrite the --out file if it exists")
    add_output_option(results, default="json")
    results.set_defaults(run=results_command)

    report = add_api_options(commands.add_parser("report", help="save (or open) a ready task's HTML report"))
    report.add_argument("task_id")
    report.add_argument("--out", type=Path, help="where to save it (default: <task_id>-report.html)")
    report.add_argument("--open", action="store_true", help="open it in the default browser")
    report.add_argument("--force", action="store_true", help="overwrite the --out file if it exists")
    report.set_defaults(run=report_command)

    tasks = add_api_options(commands.add_parser("tasks", help="your tasks, newest first (full ids)"))
    tasks.add_argument("--status", choices=TASK_STATUSES)
    tasks.add_argument("--limit", type=_positive, default=20, help="how many tasks (default: 20)")
    tasks.add_argument("--all", action="store_true", help="every task, following the pages to the end")
    add_output_option(tasks)
    tasks.set_defaults(run=tasks_command)


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive whole number")
    return int(value)


def status_command(args: argparse.Namespace) -> int:
    client = open_client(args)
    try:
        task = client.task(args.task_id)
    finally:
        client.close()
    write_record(task, args.output)
    return 0


def tasks_command(args: argparse.Namespace) -> int:
    client = open_client(args)
    try:
        items, more = _pages(
            lambda limit, cursor: client.tasks(status=args.status, limit=limit, cursor=cursor),
            wanted=None if args.all else args.limit,
            page_max=TASKS_PAGE_MAX,
        )
    finally:
        client.close()
    return _print_listing(items, more, TASK_COLUMNS, _task_row, args.output)


def results_command(args: argparse.Namespace) -> int:
    client = open_client(args)
    try:
        if args.out:
            if args.out.suffix.lower() not in (".csv", ".jsonl"):
                raise UsageError("--out must end in .csv or .jsonl")
            refuse_to_overwrite(args.out, args.force)
            files = client.results(args.task_id, limit=1)["files"]
            client.download(files["jsonl" if args.out.suffix.lower() == ".jsonl" else "csv"], args.out)
            print(f"results: {args.out}", file=sys.stderr)
            return 0
        items, more = _pages(
            lambda limit, cursor: client.results(args.task_id, limit=limit, cursor=cursor),
            wanted=None if args.all else args.limit,
            page_max=RESULTS_PAGE_MAX,
        )
    finally:
        client.close()
    return _print_listing(items, more, RESULT_COLUMNS, _result_row, args.output)


def report_command(args: argparse.Namespace) -> int:
    client = open_client(args)
    try:
        task = client.task(args.task_id)
        url = task.get("links", {}).get("report")
        if not url:
            raise ApiError(f"task {args.task_id} is {task['status']}: a report exists once it is ready")
        target = args.out or Path(f"{args.task_id}-report.html")
        refuse_to_overwrite(target, args.force)
        client.download(url, target)
    finally:
        client.close()
    print(f"report: {target}", file=sys.stderr)
    if args.open:
        import webbrowser

        webbrowser.open(target.resolve().as_uri())
    return 0


def refuse_to_overwrite(target: Path, force: bool) -> None:
    if target.exists() and not force:
        raise UsageError(f"{target} exists: pass --force to overwrite it, or name another file")


def _pages(fetch: Any, *, wanted: int | None, page_max: int) -> tuple[list[dict[str, Any]], bool]:
    """Items from `fetch(limit, cursor)` pages, following next_cursor until `wanted` (None: all)
    are read; and whether more remain."""
    items: list[dict[str, Any]] = []
    cursor = None
    while wanted is None or len(items) < wanted:
        limit = page_max if wanted is None else min(wanted - len(items), page_max)
        page = fetch(limit, cursor)
        items += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            return items, False
    return items, True


def _task_row(task: dict[str, Any]) -> dict[str, Any]:
    progress = task.get("progress") or {}
    return {
        "task_id": task["task_id"],
        "type": task.get("type"),
        "status": task.get("status"),
        "created_at": task.get("created_at"),
        "total": progress.get("total"),
        "processed": progress.get("processed"),
        "failed": progress.get("failed"),
        "filename": task.get("filename"),
    }


def _result_row(item: dict[str, Any]) -> dict[str, Any]:
    error = item.get("error") or {}
    return {**item, "error_code": error.get("code"), "error_detail": error.get("detail")}


def _print_listing(items: list, more: bool, columns, row_of, output: str) -> int:
    """A listing as the chosen output (JSON keeps the API's items whole), and a hint on stderr
    when more pages remain."""
    write_rows(items if output == "json" else [row_of(item) for item in items], columns, output)
    if more:
        print(f"(the first {len(items)}; more with --limit N or --all)", file=sys.stderr)
    return 0
