"""`reviewpulse analyze` (a file or one text, optionally quoted first), `reviewpulse wait` (a task
until it ends or waits for its owner) and `reviewpulse resume` (a task a budget paused)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reviewpulse.engine_names import ENGINE_NAMES
from reviewpulse.ingest.formats import FileFormat

from reviewpulse_cli.connect import add_api_options, open_client
from reviewpulse_cli.errors import ApiError, UsageError
from reviewpulse_cli.output import add_output_option, themes_by_count, write_record
from reviewpulse_cli.read import refuse_to_overwrite
from reviewpulse_cli.spending import WAITING, add_quote_arguments, confirm_quote, spending_options

if TYPE_CHECKING:
    from reviewpulse_cli.client import ApiClient

TERMINAL = ("ready", "error", "cancelled")
DELIMITERS = {"comma": ",", "semicolon": ";", "tab": "\t", "pipe": "|"}
DEFAULT_REPORT = "<input>.report.html"  # --report without a file name
# The formats and file extensions are the API's own (FileFormat): a new input format is offered here
# without an edit. FileFormat's module is the standard library only, cheap at startup.
FORMATS = [member.value for member in FileFormat]


def format_of(path: Path) -> str | None:
    """The format a file's extension names (as the API tells it), or None."""
    found = FileFormat.from_filename(path.name)
    return found.value if found else None


def register(commands: argparse._SubParsersAction) -> None:
    analyze = add_api_options(commands.add_parser("analyze", help="analyse a file or one text"))
    analyze.add_argument("file", nargs="?", type=Path)
    analyze.add_argument("--text", help="analyse this text instead of a file")
    analyze.add_argument("--id", help="with --text: your id for it")
    analyze.add_argument("--format", choices=FORMATS)
    analyze.add_argument("--sheet", help="xlsx: the worksheet to read, by name (default: the first)")
    analyze.add_argument("--text-field")
    analyze.add_argument("--id-field")
    analyze.add_argument("--out", type=Path, help="results file, .csv (input columns kept) or .jsonl")
    analyze.add_argument("--engine", choices=ENGINE_NAMES, help="default: the deployment's")
    analyze.add_argument(
        "--min-confidence", type=float, help="auto: items the lexicon is less sure of go to the LLM (0..1)"
    )
    analyze.add_argument(
        "--model",
        metavar="MODEL_ID",
        help="lexicon/auto: one of your ready models reads the texts (default: your default model, if any)",
    )
    analyze.add_argument(
        "--teach-sample",
        type=int,
        metavar="N",
        help="auto/llm: teach a model of yours from the LLM's answers to N items (200-10,000) of this file; "
        "on auto the rest of the file is then read through it",
    )
    analyze.add_argument(
        "--teach-default", action="store_true", help="with --teach-sample: make the taught model your default"
    )
    analyze.add_argument(
        "--mode",
        choices=["sync", "batch"],
        help="llm/auto: batch sends the LLM requests through the provider's Batch API (24 h, batch price)",
    )
    analyze.add_argument("--aspects", help="comma-separated aspects to rate, e.g. battery,price,support")
    analyze.add_argument(
        "--report",
        nargs="?",
        const=DEFAULT_REPORT,
        metavar="FILE.html",
        help="add the main themes and an executive summary, and save the HTML report "
        "(default: <input name>.report.html)",
    )
    analyze.add_argument(
        "--force",
        action="store_true",
        help="upload even when a column the options name is not in the file, and overwrite the results "
        "and report files",
    )
    analyze.add_argument("--group-by", help="comma-separated columns to cut the insights by, e.g. product,store")
    analyze.add_argument("--time-field", help="a date column for the insights over time")
    analyze.add_argument(
        "--label-field",
        help="a column of your own labels (words, 1/0, 1/0/-1 or 1-5 stars): measure the engine against them",
    )
    analyze.add_argument(
        "--category",
        action="append",
        metavar="NAME=TERM,TERM",
        help="a category of your own and the words or phrases that put an item in it, e.g. "
        "delays=late,delayed (repeat for more); the insights count each one's items",
    )
    analyze.add_argument(
        "--compare-to",
        metavar="TASK_ID",
        help="an earlier ready task: the insights then say what changed since it (`reviewpulse insights`)",
    )
    analyze.add_argument(
        "--compare-at",
        metavar="DATE|last-bucket",
        help="compare two periods of this file by --time-field: before DATE (YYYY-MM-DD) against from it on, "
        "or last-bucket: the last time bucket against the one before",
    )
    analyze.add_argument(
        "--delimiter",
        choices=list(DELIMITERS),
        help="CSV: the delimiter between columns (default: Excel's sep= line, else told from the header)",
    )
    analyze.add_argument(
        "--excel",
        action="store_true",
        help="write the results CSV with a UTF-8 byte-order mark, so that Excel shows accented text right",
    )
    analyze.add_argument(
        "--no-formula-escape",
        action="store_true",
        help="write the results CSV's cells exactly as the input's, for programs (default: an apostrophe "
        "before a cell a spreadsheet would run as a formula that calls something)",
    )
    analyze.add_argument("--no-progress", action="store_true")
    analyze.add_argument(
        "--timeout",
        type=float,
        default=3600,
        help="seconds to wait for the task; it goes on running after that (`reviewpulse wait TASK_ID`)",
    )
    add_quote_arguments(analyze)
    analyze.set_defaults(run=analyze_command)

    wait = add_api_options(
        commands.add_parser(
            "wait",
            help="wait for a task to end, then show it",
            description="Wait for a task to end (or to wait for you: quoted or paused), then show it; "
            "exit 0 when it is ready, 1 otherwise.",
        )
    )
    wait.add_argument("task_id")
    wait.add_argument("--timeout", type=float, default=3600, help="seconds to wait (default: 3600)")
    wait.add_argument("--no-progress", action="store_true")
    add_output_option(wait)
    wait.set_defaults(run=wait_command)

    resume = add_api_options(commands.add_parser("resume", help="continue a task a budget paused"))
    resume.add_argument("task_id")
    resume.add_argument("--max-cost-usd", type=float, help="a higher budget for a task its own budget paused")
    resume.set_defaults(run=resume_command)


def analyze_command(args: argparse.Namespace) -> int:
    client = open_client(args)
    try:
        return _analyze(client, args)
    finally:
        client.close()


def wait_command(args: argparse.Namespace) -> int:
    client = open_client(args)
    try:
        task = wait_for(
            client,
            args.task_id,
            total_hint=None,
            show=not args.no_progress,
            timeout=args.timeout,
            until=(*WAITING, *TERMINAL),
        )
    finally:
        client.close()
    write_record(task, args.output)
    print_warnings_and_notes(task)
    return 0 if task["status"] == "ready" else 1


def resume_command(args: argparse.Namespace) -> int:
    client = open_client(args)
    try:
        task = client.resume(args.task_id, args.max_cost_usd)
    finally:
        client.close()
    print(f"task {task['task_id']} is {task['status']}", file=sys.stderr)
    return 0


def _analyze(client: ApiClient, args: argparse.Namespace) -> int:
    if args.text is not None:
        if args.file is not None:
            raise UsageError("give a file or --text, not both")
        task = client.create_text_task(args.text, args.id, options(args))
        task = wait_for(
            client, task["task_id"], total_hint=1, show=False, timeout=args.timeout, until=(*WAITING, *TERMINAL)
        )
        return _print_text_result(client, task)
    _report_not_file(args)
    if args.file is None:
        raise UsageError("give a file to analyse, or --text")
    if not args.file.is_file():
        raise UsageError(f"no such file: {args.file}")
    file_format = args.format or format_of(args.file)
    if file_format is None and args.file.suffix.lower() in (".xlsm", ".xls", ".ods"):
        raise UsageError(
            f"{args.file.name} is a spreadsheet workbook that is not read: save it from Excel as "
            '"Excel Workbook (.xlsx)" or with Save As, "CSV UTF-8 (Comma delimited)", and analyse that file'
        )
    if file_format is None:
        raise UsageError(f"{args.file.name}: cannot tell its format; pass --format csv|json|jsonl|txt|xlsx")
    if args.sheet and file_format != "xlsx":
        raise UsageError("--sheet names a worksheet of an .xlsx workbook; this file is read as " + file_format)
    out = args.out or Path(f"{args.file.stem}.results.csv")
    if out.suffix.lower() not in (".csv", ".jsonl"):
        raise UsageError("--out must end in .csv or .jsonl")
    report = _report_path(args)
    for target in (out, report) if report else (out,):
        if not target.resolve().parent.is_dir():
            raise UsageError(f"cannot write {target}: no such folder {target.resolve().parent}")
        refuse_to_overwrite(target, args.force)
    _check_columns(args, file_format)
    try:
        content = args.file.open("rb")
    except OSError as exc:
        raise UsageError(f"cannot read {args.file}: {exc.strerror}") from None
    with content:
        created = client.create_batch(
            args.file.name,
            options(args),
            format=file_format,
            text_field=args.text_field,
            id_field=args.id_field,
        )
        task_id = created["task"]["task_id"]
        client.upload(created["upload"], args.file.name, content)
    print(f"task {task_id}: uploaded {args.file.name} ({args.file.stat().st_size:,} bytes)", file=sys.stderr)
    if args.quote:
        quoted = wait_for(
            client, task_id, total_hint=None, show=False, timeout=args.timeout, until=("quoted", *TERMINAL)
        )
        if quoted["status"] != "quoted":
            error = quoted.get("error") or {}
            raise ApiError(f"task {task_id} ended in {quoted['status']}: {error.get('detail')} ({error.get('code')})")
        if not confirm_quote(quoted, yes=args.yes):
            print(f"task {task_id} stays quoted: start it with POST /v1/tasks/{task_id}/start", file=sys.stderr)
            return 0
        client.start(task_id)
    task = wait_for(
        client, task_id, total_hint=None, show=not args.no_progress, timeout=args.timeout, until=(*WAITING, *TERMINAL)
    )
    _raise_if_paused(task)
    if task["status"] != "ready":
        error = task.get("error") or {}
        raise ApiError(f"task {task_id} ended in {task['status']}: {error.get('detail')} ({error.get('code')})")
    _print_summary(task)
    if getattr(args, "compare_to", None) or getattr(args, "compare_at", None):
        from reviewpulse_cli.insights import print_comparison

        print_comparison(client.insights(task_id))
    print_warnings_and_notes(task)
    files = client.results(task_id, limit=1)["files"]
    size = client.download(files["jsonl" if out.suffix.lower() == ".jsonl" else "csv"], out)
    print(f"results: {out} ({size:,} bytes, {task['progress']['total']:,} rows)", file=sys.stderr)
    if report:
        size = client.download(task["links"]["report"], report)
        print(
            f"report: {report.resolve()} ({size:,} bytes; open it in a browser, it needs no network)", file=sys.stderr
        )
    return 0


def _report_not_file(args: argparse.Namespace) -> None:
    """`analyze --report reviews.csv`: argparse gives the file to --report; give it back."""
    if args.file is None and args.report not in (None, DEFAULT_REPORT):
        if Path(args.report).suffix.lower() not in (".html", ".htm"):
            args.file, args.report = Path(args.report), DEFAULT_REPORT


def _report_path(args: argparse.Namespace) -> Path | None:
    if args.report is None:
        return None
    if args.report == DEFAULT_REPORT:
        return Path(f"{args.file.stem}.report.html")
    path = Path(args.report)
    if path.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"--report {args.report}: the report is an HTML file, name it .html")
    return path


def _check_columns(args: argparse.Namespace, file_format: str) -> None:
    """The columns the options name, looked up in the file before it is uploaded: a miss is a
    usage error (with the column probably meant), or with --force a warning."""
    from reviewpulse_cli import columns

    named = columns.named_columns(
        text_field=args.text_field,
        id_field=args.id_field,
        group_by=options(args).get("group_by", []),
        time_field=args.time_field,
        label_field=getattr(args, "label_field", None),
    )
    delimiter = DELIMITERS[args.delimiter] if args.delimiter else None
    found = columns.problems(args.file, file_format, delimiter, named, sheet=getattr(args, "sheet", None))
    if not found:
        return
    if not args.force:
        raise UsageError("\n".join([*found, "nothing was uploaded; --force uploads it as it is"]))
    for line in found:
        print(f"warning: {line} (uploaded anyway: --force)", file=sys.stderr)


def print_warnings_and_notes(task: dict[str, Any]) -> None:
    """What the task says a user should know about how it ran, on stderr."""
    for warning in task.get("warnings") or []:
        print(f"warning: {warning.get('detail')} ({warning.get('code')})", file=sys.stderr)
    for note in task.get("notes") or []:
        print(f"note: {note}", file=sys.stderr)


def wait_for(
    client: ApiClient,
    task_id: str,
    *,
    total_hint: int | None,
    show: bool,
    timeout: float,
    until: tuple[str, ...] = TERMINAL,
) -> dict[str, Any]:
    """Poll the task until its status is one of `until` (by default: it ended); past the timeout,
    say how to pick it up again."""
    deadline = time.monotonic() + timeout
    delay = 0.2
    with _progress(show) as progress:
        bar = progress.add_task("waiting", total=total_hint) if progress else None
        while True:
            task = client.task(task_id)
            counts = task["progress"]
            if progress:
                progress.update(
                    bar,
                    total=counts["total"],
                    completed=counts["processed"] + counts["failed"],
                    description=task["status"],
                )
            if task["status"] in until:
                return task
            if time.monotonic() > deadline:
                raise ApiError(
                    f"task {task_id} is still {task['status']} after {timeout:g} s; it goes on running: "
                    f"`reviewpulse wait {task_id}` picks it up again"
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 2.0)


def _progress(show: bool) -> Any:
    """rich's progress bar on stderr, loaded only when one is shown."""
    if not show:
        import contextlib

        return contextlib.nullcontext(None)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
    )


def _raise_if_paused(task: dict[str, Any]) -> None:
    if task["status"] == "paused":
        task_id = task["task_id"]
        raise ApiError(
            f"task {task_id} is paused: {task.get('paused_reason')}; continue it with `reviewpulse resume {task_id}`"
        )


def _print_text_result(client: ApiClient, task: dict[str, Any]) -> int:
    _raise_if_paused(task)
    if task["status"] != "ready":
        error = task.get("error") or {}
        raise ApiError(f"task {task['task_id']} ended in {task['status']}: {error.get('detail')}")
    (item,) = client.results(task["task_id"], limit=1)["items"]
    if item.get("error"):
        print(f"{item['id']}\terror\t{item['error']['code']}: {item['error']['detail']}")
        return 1
    print(f"{item['id']}\t{item['label']}\tscore {item['score']:+.3f}\tconfidence {item['confidence']:.2f}")
    return 0


def options(args: argparse.Namespace) -> dict[str, Any]:
    chosen: dict[str, Any] = {}
    if args.engine:
        chosen["engine"] = args.engine
    if args.min_confidence is not None:
        chosen["min_confidence"] = args.min_confidence
    if getattr(args, "model", None):
        chosen["model_id"] = args.model
    if getattr(args, "teach_sample", None) is not None:
        chosen["teach"] = {"sample": args.teach_sample, "set_default": args.teach_default}
    elif getattr(args, "teach_default", False):
        raise UsageError("--teach-default makes a taught model your default: give --teach-sample N too")
    if args.mode:
        chosen["mode"] = args.mode
    if args.aspects:
        chosen["aspects"] = [aspect.strip() for aspect in args.aspects.split(",") if aspect.strip()]
    if args.report is not None:
        chosen["report"] = True
    if args.group_by:
        chosen["group_by"] = [column.strip() for column in args.group_by.split(",") if column.strip()]
    if args.time_field:
        chosen["time_field"] = args.time_field
    if getattr(args, "label_field", None):
        chosen["label_field"] = args.label_field
    if getattr(args, "category", None):
        chosen["categories"] = categories(args.category)
    if getattr(args, "compare_to", None):
        chosen["compare_to"] = args.compare_to
    if getattr(args, "compare_at", None):
        chosen["compare"] = {"at": args.compare_at}
    if getattr(args, "delimiter", None):
        chosen["delimiter"] = DELIMITERS[args.delimiter]
    if getattr(args, "sheet", None):
        chosen["sheet"] = args.sheet
    if getattr(args, "excel", False):
        chosen["csv_bom"] = True
    if getattr(args, "no_formula_escape", False):
        chosen["csv_escape_formulas"] = False
    return {**chosen, **spending_options(args)}


def _print_summary(task: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    summary, counts = task["summary"], task["progress"]
    table = Table("label", "count", "share", title=f"task {task['task_id']}")
    for label, count in summary["counts"].items():
        table.add_row(label, f"{count:,}", f"{summary['percentages'][label]:.1f}%")
    table.add_row("errors", f"{counts['failed']:,}", "")
    Console().print(table)
    mean = summary.get("mean_score")
    mean_text = f"{mean:+.3f}" if mean is not None else "n/a"
    print(f"mean score {mean_text} over {counts['processed']:,} analysed of {counts['total']:,} rows")
    usage = task.get("usage")
    if usage:
        print(
            f"LLM: {usage['requests']:,} requests, {usage['input_tokens']:,} tokens in, "
            f"{usage['output_tokens']:,} out, {usage['cached_items']:,} items from the cache, "
            f"about ${usage['estimated_cost_usd']:.4f}"
            + (
                f" ({usage['batch_requests']:,} requests at the Batch API's price)"
                if usage.get("batch_requests")
                else ""
            )
        )
    headline = task.get("headline")
    if headline:
        print(headline["statement"])
    taught = task.get("teach_model_id")
    if taught:
        print(taught_line(task, taught))
    report = task.get("report")
    if report:
        print(f"\n{report['executive_summary']}")
        for theme in themes_by_count(report["themes"]):
            print(f"  {theme['polarity']:>9}  {theme['theme']} ({theme['count']:,})")


def taught_line(task: dict[str, Any], model_id: str) -> str:
    """What a batch that taught a model (--teach-sample) says about it in the summary."""
    if (task.get("options") or {}).get("model_id") == model_id:
        return f"taught model {model_id} from the LLM's answers to a sample; it read the rest of this file"
    if any(w.get("code") == "teach-failed" for w in task.get("warnings") or []):
        return f"model {model_id} could not be taught (see the teach-failed warning)"
    return f"teaching model {model_id} from the LLM's answers to a sample: `reviewpulse models show {model_id}`"


def categories(given: list[str]) -> dict[str, list[str]]:
    """`--category delays=late,delayed` given once per category."""
    found: dict[str, list[str]] = {}
    for entry in given:
        name, equals, terms = entry.partition("=")
        words = [term.strip() for term in terms.split(",") if term.strip()]
        if not equals or not name.strip() or not words:
            raise UsageError(f"--category {entry!r}: give NAME=TERM[,TERM...], e.g. delays=late,delayed")
        found.setdefault(name.strip(), []).extend(words)
    return found
