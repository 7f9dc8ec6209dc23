"""`reviewpulse evaluate FILE --label-field stars`: every engine over the same labelled file, side
by side in one table (accuracy, macro-F1, calibration, coverage, and for LLM engines the share sent,
tokens and cost per 1,000 items).

Each engine runs as its own batch of the same upload with options.label_field; the figures are
each task's evaluation (GET /v1/tasks/{id}/insights). An engine this deployment cannot run (no LLM
configured) gets a row that says why instead of figures.

A new kind of run (a tenant model) is one more entry in RUNS: its name on the command line and
the options its batch is created with.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reviewpulse_cli.connect import add_api_options, open_client
from reviewpulse_cli.errors import ApiError, UsageError

if TYPE_CHECKING:
    from reviewpulse_cli.client import ApiClient

# name on the command line → the options of its batch (beside label_field)
RUNS: dict[str, dict[str, Any]] = {
    "lexicon": {"engine": "lexicon"},
    "auto": {"engine": "auto"},
    "llm": {"engine": "llm"},
}
DEFAULT_RUNS = "lexicon,auto,llm"
FORMATS_BY_SUFFIX = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}
COLUMNS = ("engine", "accuracy", "macro-F1", "ECE", "evaluated", "sent to LLM", "tokens/1k", "$/1k")


def register(commands: argparse._SubParsersAction) -> None:
    evaluate = add_api_options(
        commands.add_parser(
            "evaluate",
            help="run engines over one labelled file and compare them side by side",
            description="Run each engine over the same labelled file and print one table of how well each "
            "matches your labels. Exit 0 when every engine that could run finished.",
        )
    )
    evaluate.add_argument("file", type=Path)
    evaluate.add_argument("--label-field", required=True, help="the column of your own labels")
    evaluate.add_argument(
        "--engines", default=DEFAULT_RUNS, help=f"comma-separated, of {', '.join(RUNS)} (default: {DEFAULT_RUNS})"
    )
    evaluate.add_argument("--format", choices=["csv", "json", "jsonl"])
    evaluate.add_argument("--text-field")
    evaluate.add_argument("--id-field")
    evaluate.add_argument("--timeout", type=float, default=3600, help="seconds to wait for each run")
    evaluate.set_defaults(run=evaluate_command)


def evaluate_command(args: argparse.Namespace) -> int:
    runs = [name.strip() for name in args.engines.split(",") if name.strip()]
    unknown = [name for name in runs if name not in RUNS]
    if unknown or not runs:
        raise UsageError(f"--engines takes {', '.join(RUNS)}; not {', '.join(unknown) or 'nothing'}")
    if not args.file.is_file():
        raise UsageError(f"no such file: {args.file}")
    file_format = args.format or FORMATS_BY_SUFFIX.get(args.file.suffix.lower())
    if file_format is None:
        raise UsageError(f"{args.file.name}: cannot tell its format; pass --format csv|json|jsonl")
    client = open_client(args)
    try:
        started = {name: _start(client, args, file_format, name) for name in runs}
        rows = {name: _finish(client, started[name], args.timeout) for name in runs}
    finally:
        client.close()
    _print_table(args.file.name, args.label_field, rows)
    return 0 if all(row.get("error") is None or row.get("unavailable") for row in rows.values()) else 1


def _start(client: ApiClient, args: argparse.Namespace, file_format: str, name: str) -> str | dict[str, Any]:
    """The task id of this engine's run, or why it could not start."""
    options = {**RUNS[name], "label_field": args.label_field}
    try:
        created = client.create_batch(
            args.file.name, options, format=file_format, text_field=args.text_field, id_field=args.id_field
        )
    except ApiError as exc:
        return {"error": str(exc), "unavailable": exc.code == "engine-unavailable"}
    with args.file.open("rb") as content:
        client.upload(created["upload"], args.file.name, content)
    task_id = created["task"]["task_id"]
    print(f"{name}: task {task_id}", file=sys.stderr)
    return task_id


def _finish(client: ApiClient, started: str | dict[str, Any], timeout: float) -> dict[str, Any]:
    if isinstance(started, dict):
        return started
    from reviewpulse_cli.analyze import TERMINAL, wait_for

    task = wait_for(client, started, total_hint=None, show=False, timeout=timeout, until=TERMINAL)
    if task["status"] != "ready":
        error = task.get("error") or {}
        return {"error": f"ended {task['status']}: {error.get('code')}"}
    evaluation = client.insights(started).get("evaluation")
    if evaluation is None:
        codes = ", ".join(w["code"] for w in task.get("warnings", [])) or "no evaluation"
        return {"error": codes}
    return {"evaluation": evaluation, "headline": task.get("headline")}


def cells(row: dict[str, Any]) -> list[str]:
    """One engine's row of the table."""
    if "evaluation" not in row:
        return [f"({row['error']})", "", "", "", "", "", ""]
    evaluation = row["evaluation"]
    coverage = evaluation["coverage"]
    llm = evaluation.get("llm")

    def figure(value: float | None) -> str:
        return "–" if value is None else f"{value:.3f}"

    return [
        figure(evaluation["accuracy"]),
        figure(evaluation["macro_f1"]),
        figure(evaluation["ece"]),
        f"{coverage['evaluated']:,} of {coverage['rows']:,}",
        f"{llm['share_answered_by_llm']:.0%}" if llm else "–",
        f"{llm['tokens_per_1000_items']:,.0f}" if llm else "–",
        f"{llm['cost_per_1000_items_usd']:.4f}" if llm else "–",
    ]


def _print_table(filename: str, label_field: str, rows: dict[str, dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(*COLUMNS, title=f"{filename} against its {label_field!r} labels")
    for name, row in rows.items():
        table.add_row(name, *cells(row))
    Console().print(table)
    first = next((row["evaluation"] for row in rows.values() if "evaluation" in row), None)
    if first is not None:
        met = ", ".join(f"{v['value']}→{v['read_as'] or 'invalid-label'} ({v['rows']:,})" for v in first["values"])
        print(f"labels read as: {met}")
