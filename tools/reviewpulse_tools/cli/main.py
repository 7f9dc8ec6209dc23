"""`reviewpulse`: the command-line client and the local stack's front door.

    reviewpulse analyze FILE [--out results.csv|.jsonl]   analyse a file, with a progress bar
    reviewpulse analyze --text "…"                        analyse one text
    reviewpulse status TASK_ID | results TASK_ID | tasks
    reviewpulse analyze FILE --quote [--yes]              show what the run will cost, then start it
    reviewpulse keys create|list|revoke --tenant NAME (--stack S | --table T | --local)
    reviewpulse tenants budget --tenant NAME [--usd N] (--stack S | --table T | --local)
    reviewpulse dev [--port 3000]                        run the local stack in the foreground
    reviewpulse invoke FunctionLogicalId --event events/x.json   like `sam local invoke`

The API is found from --endpoint/--api-key, else REVIEWPULSE_ENDPOINT/REVIEWPULSE_API_KEY, else
the running local stack. `keys create` prints only the new key on standard output.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from reviewpulse.analysis.engine_names import ENGINE_NAMES

from reviewpulse_tools.cli.client import ApiClient, ApiError
from reviewpulse_tools.cli.keys import KeyAdminError, create_key, list_keys, resolve_target, revoke_key, session_for
from reviewpulse_tools.cli.spending import (
    SpendingUsageError,
    add_quote_arguments,
    add_resume_command,
    add_tenant_commands,
    confirm_quote,
    resume_command,
    spending_options,
    tenants_command,
)

TERMINAL = ("ready", "error", "cancelled")
# Statuses a task waits in for its owner: `analyze` stops waiting and says how to go on.
WAITING = ("quoted", "paused")
FORMATS_BY_SUFFIX = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".txt": "txt"}


class UsageError(Exception):
    pass


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reviewpulse", description="ReviewPulse command-line client")
    commands = parser.add_subparsers(dest="command", required=True)

    def with_api(sub: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sub.add_argument("--endpoint", help="API base URL (default: $REVIEWPULSE_ENDPOINT or the local stack)")
        sub.add_argument("--api-key", help="API key (default: $REVIEWPULSE_API_KEY or the local stack's)")
        return sub

    analyze = with_api(commands.add_parser("analyze", help="analyse a file or one text"))
    analyze.add_argument("file", nargs="?", type=Path)
    analyze.add_argument("--text", help="analyse this text instead of a file")
    analyze.add_argument("--id", help="with --text: your id for it")
    analyze.add_argument("--format", choices=["csv", "json", "jsonl", "txt"])
    analyze.add_argument("--text-field")
    analyze.add_argument("--id-field")
    analyze.add_argument("--out", type=Path, help="results file, .csv (input columns kept) or .jsonl")
    analyze.add_argument("--engine", choices=ENGINE_NAMES, help="default: the deployment's")
    analyze.add_argument(
        "--min-confidence", type=float, help="auto: items the lexicon is less sure of go to the LLM (0..1)"
    )
    analyze.add_argument("--aspects", help="comma-separated aspects to rate, e.g. battery,price,support")
    analyze.add_argument("--report", action="store_true", help="add the main themes and an executive summary")
    analyze.add_argument("--group-by", help="comma-separated columns to cut the insights by, e.g. product,store")
    analyze.add_argument("--time-field", help="a date column for the insights over time")
    analyze.add_argument("--no-progress", action="store_true")
    analyze.add_argument("--timeout", type=float, default=3600, help="seconds to wait for the task")
    add_quote_arguments(analyze)

    status = with_api(commands.add_parser("status", help="a task's status, progress and summary"))
    status.add_argument("task_id")
    results = with_api(commands.add_parser("results", help="a task's per-item results"))
    results.add_argument("task_id")
    results.add_argument("--limit", type=int, default=100)
    results.add_argument("--out", type=Path, help="write the full results file (.csv or .jsonl) instead")
    report = with_api(commands.add_parser("report", help="save (or open) a ready task's HTML report"))
    report.add_argument("task_id")
    report.add_argument("--out", type=Path, help="where to save it (default: <task_id>-report.html)")
    report.add_argument("--open", action="store_true", help="open it in the default browser")
    tasks = with_api(commands.add_parser("tasks", help="your tasks, newest first"))
    tasks.add_argument(
        "--status",
        choices=["accepted", "queued", "processing", "quoted", "paused", "ready", "error", "cancelled"],
    )
    tasks.add_argument("--limit", type=int, default=20)

    keys = commands.add_parser("keys", help="manage tenants' API keys").add_subparsers(dest="action", required=True)
    for action, help_text in (
        ("create", "create a key for a tenant"),
        ("revoke", "revoke one of a tenant's keys"),
        ("list", "list a tenant's keys"),
    ):
        sub = keys.add_parser(action, help=help_text)
        sub.add_argument("--tenant", required=True)
        where = sub.add_mutually_exclusive_group()
        where.add_argument("--stack", help="a deployed ReviewPulse stack's name")
        where.add_argument("--table", help="the keys table's name")
        where.add_argument("--local", action="store_true", help="the running local stack")
        sub.add_argument("--usage-plan-id", help="with --table: the usage plan that throttles tenants")
        sub.add_argument("--profile")
        sub.add_argument("--region")
        if action == "revoke":
            sub.add_argument("--key-id", required=True, help="the key id printed by `keys create` (a prefix will do)")

    add_tenant_commands(commands)
    add_resume_command(with_api(commands.add_parser("resume", help="continue a task a budget paused")))

    dev = commands.add_parser("dev", help="run the local stack in the foreground")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=_port, default=os.environ.get("REVIEWPULSE_PORT", "3000"))
    dev.add_argument("--aws-port", type=_port, default=os.environ.get("REVIEWPULSE_AWS_PORT", "5005"))
    dev.add_argument("--env-vars", type=Path, help="env.json overrides, as for `sam local invoke --env-vars`")
    dev.add_argument("--log-level", default=None, help="the functions' log level (default: the template's)")
    dev.add_argument(
        "--fake-llm",
        action="store_true",
        help="serve the llm engine from a local fake OpenAI-compatible server (no key needed)",
    )
    dev.add_argument(
        "--parameter-overrides",
        nargs="+",
        default=[],
        metavar="NAME=VALUE",
        help="template parameters, as for `sam deploy`: e.g. ThrottleRateLimit=5 ThrottleBurstLimit=10 QuotaLimit=1000",
    )

    invoke = commands.add_parser("invoke", help="invoke one function with an event against the local stack")
    invoke.add_argument("function", help="the function's logical id in template.yaml")
    invoke.add_argument("--event", "-e", type=Path, required=True)
    invoke.add_argument("--env-vars", type=Path)
    return parser


def _port(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number (1-65535)")
    return int(value)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "keys":
            return _keys(args)
        if args.command == "tenants":
            return tenants_command(args)
        if args.command == "dev":
            return _dev(args)
        if args.command == "invoke":
            return _invoke(args)
        client = _client(args)
        try:
            commands = {
                "analyze": _analyze,
                "status": _status,
                "results": _results,
                "report": _report,
                "tasks": _tasks,
                "resume": resume_command,
            }
            return commands[args.command](client, args)
        finally:
            client.close()
    except (ApiError, UsageError, KeyAdminError, SpendingUsageError) as exc:
        print(f"reviewpulse: {exc}", file=sys.stderr)
        return 1 if isinstance(exc, ApiError) else 2
    except (ClientError, BotoCoreError) as exc:
        print(f"reviewpulse: AWS said: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


# -- API commands ------------------------------------------------------------------------------


def _client(args: argparse.Namespace) -> ApiClient:
    from reviewpulse_tools.local.stack import read_state

    state = read_state() or {}
    endpoint = args.endpoint or os.environ.get("REVIEWPULSE_ENDPOINT") or state.get("api_url")
    api_key = args.api_key or os.environ.get("REVIEWPULSE_API_KEY") or state.get("api_key")
    if not endpoint:
        raise UsageError(
            "no endpoint: pass --endpoint, set REVIEWPULSE_ENDPOINT, or start the local stack (`make dev`)"
        )
    if not api_key:
        raise UsageError("no API key: pass --api-key or set REVIEWPULSE_API_KEY")
    return ApiClient(endpoint, api_key)


def _analyze(client: ApiClient, args: argparse.Namespace) -> int:
    if args.text is not None:
        if args.file is not None:
            raise UsageError("give a file or --text, not both")
        task = client.create_text_task(args.text, args.id, _options(args))
        task = _wait(client, task["task_id"], total_hint=1, show=False, timeout=args.timeout)
        return _report_text(client, task)
    if args.file is None:
        raise UsageError("give a file to analyse, or --text")
    if not args.file.is_file():
        raise UsageError(f"no such file: {args.file}")
    file_format = args.format or FORMATS_BY_SUFFIX.get(args.file.suffix.lower())
    if file_format is None:
        raise UsageError(f"{args.file.name}: cannot tell its format; pass --format csv|json|jsonl|txt")
    out = args.out or Path(f"{args.file.stem}.results.csv")
    if out.suffix.lower() not in (".csv", ".jsonl"):
        raise UsageError("--out must end in .csv or .jsonl")
    if not out.resolve().parent.is_dir():
        raise UsageError(f"cannot write {out}: no such folder {out.resolve().parent}")
    try:
        content = args.file.open("rb")
    except OSError as exc:
        raise UsageError(f"cannot read {args.file}: {exc.strerror}") from None
    with content:
        created = client.create_batch(
            args.file.name,
            _options(args),
            format=file_format,
            text_field=args.text_field,
            id_field=args.id_field,
        )
        task_id = created["task"]["task_id"]
        client.upload(created["upload"], args.file.name, content)
    print(f"task {task_id}: uploaded {args.file.name} ({args.file.stat().st_size:,} bytes)", file=sys.stderr)
    if args.quote:
        quoted = _wait(client, task_id, total_hint=None, show=False, timeout=args.timeout, until=("quoted", *TERMINAL))
        if quoted["status"] != "quoted":
            error = quoted.get("error") or {}
            raise ApiError(f"task {task_id} ended in {quoted['status']}: {error.get('detail')} ({error.get('code')})")
        if not confirm_quote(quoted, yes=args.yes):
            print(f"task {task_id} stays quoted: start it with POST /v1/tasks/{task_id}/start", file=sys.stderr)
            return 0
        client.start(task_id)
    task = _wait(
        client, task_id, total_hint=None, show=not args.no_progress, timeout=args.timeout, until=(*WAITING, *TERMINAL)
    )
    if task["status"] == "paused":
        raise ApiError(
            f"task {task_id} is paused: {task.get('paused_reason')}; continue it with `reviewpulse resume {task_id}`"
        )
    if task["status"] != "ready":
        error = task.get("error") or {}
        raise ApiError(f"task {task_id} ended in {task['status']}: {error.get('detail')} ({error.get('code')})")
    _print_summary(task)
    files = client.results(task_id, limit=1)["files"]
    size = client.download(files["jsonl" if out.suffix.lower() == ".jsonl" else "csv"], out)
    print(f"results: {out} ({size:,} bytes, {task['progress']['total']:,} rows)", file=sys.stderr)
    return 0


def _wait(
    client: ApiClient,
    task_id: str,
    *,
    total_hint: int | None,
    show: bool,
    timeout: float,
    until: tuple[str, ...] = TERMINAL,
) -> dict[str, Any]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    deadline = time.monotonic() + timeout
    delay = 0.2
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=_stderr_console(),
        disable=not show,
        transient=False,
    ) as progress:
        bar = progress.add_task("waiting", total=total_hint)
        while True:
            task = client.task(task_id)
            counts = task["progress"]
            progress.update(
                bar,
                total=counts["total"],
                completed=counts["processed"] + counts["failed"],
                description=task["status"],
            )
            if task["status"] in until:
                return task
            if time.monotonic() > deadline:
                raise ApiError(f"task {task_id} is still {task['status']} after {timeout:.0f} s")
            time.sleep(delay)
            delay = min(delay * 1.5, 2.0)


def _report_text(client: ApiClient, task: dict[str, Any]) -> int:
    if task["status"] != "ready":
        error = task.get("error") or {}
        raise ApiError(f"task {task['task_id']} ended in {task['status']}: {error.get('detail')}")
    (item,) = client.results(task["task_id"], limit=1)["items"]
    if item.get("error"):
        print(f"{item['id']}\terror\t{item['error']['code']}: {item['error']['detail']}")
        return 1
    print(f"{item['id']}\t{item['label']}\tscore {item['score']:+.3f}\tconfidence {item['confidence']:.2f}")
    return 0


def _status(client: ApiClient, args: argparse.Namespace) -> int:
    task = client.task(args.task_id)
    print(json.dumps(task, indent=2))
    return 0


def _report(client: ApiClient, args: argparse.Namespace) -> int:
    task = client.task(args.task_id)
    url = task.get("links", {}).get("report")
    if not url:
        raise ApiError(f"task {args.task_id} is {task['status']}: a report exists once it is ready")
    target = args.out or Path(f"{args.task_id}-report.html")
    client.download(url, target)
    print(f"report: {target}", file=sys.stderr)
    if args.open:
        import webbrowser

        webbrowser.open(target.resolve().as_uri())
    return 0


def _results(client: ApiClient, args: argparse.Namespace) -> int:
    if args.out:
        files = client.results(args.task_id, limit=1)["files"]
        client.download(files["jsonl" if args.out.suffix.lower() == ".jsonl" else "csv"], args.out)
        print(f"results: {args.out}", file=sys.stderr)
        return 0
    cursor = None
    remaining = args.limit
    while remaining > 0:
        page = client.results(args.task_id, limit=min(remaining, 1000), cursor=cursor)
        for item in page["items"]:
            print(json.dumps(item))
        remaining -= len(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    return 0


def _tasks(client: ApiClient, args: argparse.Namespace) -> int:
    from rich.table import Table

    table = Table("task_id", "type", "status", "created_at", "total", "failed", "file")
    for task in client.tasks(status=args.status, limit=args.limit)["items"]:
        counts = task["progress"]
        table.add_row(
            task["task_id"],
            task["type"],
            task["status"],
            task["created_at"][:19],
            str(counts["total"] if counts["total"] is not None else "-"),
            str(counts["failed"]),
            task.get("filename") or "",
        )
    _stdout_console().print(table)
    return 0


def _options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if args.engine:
        options["engine"] = args.engine
    if args.min_confidence is not None:
        options["min_confidence"] = args.min_confidence
    if args.aspects:
        options["aspects"] = [aspect.strip() for aspect in args.aspects.split(",") if aspect.strip()]
    if args.report:
        options["report"] = True
    if args.group_by:
        options["group_by"] = [column.strip() for column in args.group_by.split(",") if column.strip()]
    if args.time_field:
        options["time_field"] = args.time_field
    return {**options, **spending_options(args)}


def _print_summary(task: dict[str, Any]) -> None:
    from rich.table import Table

    summary, counts = task["summary"], task["progress"]
    table = Table("label", "count", "share", title=f"task {task['task_id']}")
    for label, count in summary["counts"].items():
        table.add_row(label, f"{count:,}", f"{summary['percentages'][label]:.1f}%")
    table.add_row("errors", f"{counts['failed']:,}", "")
    _stdout_console().print(table)
    mean = summary.get("mean_score")
    mean_text = f"{mean:+.3f}" if mean is not None else "n/a"
    print(f"mean score {mean_text} over {counts['processed']:,} analysed of {counts['total']:,} rows")
    usage = task.get("usage")
    if usage:
        print(
            f"LLM: {usage['requests']:,} requests, {usage['input_tokens']:,} tokens in, "
            f"{usage['output_tokens']:,} out, {usage['cached_items']:,} items from the cache, "
            f"about ${usage['estimated_cost_usd']:.4f}"
        )
    report = task.get("report")
    if report:
        print(f"\n{report['executive_summary']}")
        for theme in report["themes"]:
            print(f"  {theme['polarity']:>9}  {theme['theme']} ({theme['count']:,})")


def _stdout_console():
    from rich.console import Console

    return Console()


def _stderr_console():
    from rich.console import Console

    return Console(stderr=True)


# -- keys --------------------------------------------------------------------------------------


def _keys(args: argparse.Namespace) -> int:
    table = args.table
    usage_key = None
    if args.local:
        from reviewpulse_tools.local.stack import STACK_NAME, aws_environment, local_usage_key, read_state

        state = read_state()
        if state is None:
            raise UsageError("no local stack is running: start one with `make dev`")
        os.environ.update(aws_environment(state["aws_endpoint"]))
        table = f"{STACK_NAME}-KeysTable"
        usage_key = local_usage_key(args.tenant)
    session = session_for(args.profile, args.region)
    target = resolve_target(session, stack=args.stack, table=table, usage_plan_id=args.usage_plan_id)
    if args.action == "create":
        key, record = create_key(session, target, args.tenant, usage_key=usage_key)
        print(key)
        print(f"created key {record.key_id} for tenant {record.tenant}; it is shown only once", file=sys.stderr)
    elif args.action == "revoke":
        record = revoke_key(session, target, args.tenant, args.key_id)
        print(f"revoked key {record.key_id} of tenant {record.tenant}", file=sys.stderr)
    else:
        for record in list_keys(session, target, args.tenant):
            print(f"{record.key_id}\t{record.status}\t{record.created_at}")
    return 0


# -- local stack -------------------------------------------------------------------------------


def _dev(args: argparse.Namespace) -> int:
    from reviewpulse_tools.local.stack import BadEnvFile, PortInUse, start
    from reviewpulse_tools.local.template import BadParameter

    try:
        running = start(
            host=args.host,
            api_port=args.port,
            aws_port=args.aws_port,
            env_file=args.env_vars,
            function_log_level=args.log_level,
            fake_llm=args.fake_llm,
            parameter_overrides=_parameter_overrides(args.parameter_overrides),
        )
    except (PortInUse, BadEnvFile, BadParameter) as exc:
        raise UsageError(str(exc)) from None
    print(running.describe(), flush=True)
    stopping = {"now": False}

    def stop(signum: int, frame: Any) -> None:
        stopping["now"] = True

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, stop)
    try:
        while not stopping["now"]:
            time.sleep(0.2)
    finally:
        # A second Ctrl-C while stopping ends it at once.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        running.stop()
        print("local stack stopped", file=sys.stderr)
    return 0


def _parameter_overrides(pairs: list[str]) -> dict[str, str]:
    overrides = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UsageError(f"--parameter-overrides takes NAME=VALUE pairs, not {pair!r}")
        overrides[name] = value
    return overrides


def _invoke(args: argparse.Namespace) -> int:
    from reviewpulse_tools.local.stack import BadEnvFile, StackNotRunning, invoke

    try:
        event = json.loads(args.event.read_text())
    except OSError as exc:
        raise UsageError(f"cannot read {args.event}: {exc.strerror}") from None
    except ValueError as exc:
        raise UsageError(f"{args.event} is not JSON: {exc}") from None
    # As `sam local invoke`: the function's own output (logs, metrics) on stderr, its result on
    # stdout; an unhandled error is reported as Lambda reports it.
    try:
        with contextlib.redirect_stdout(sys.stderr):
            result = invoke(args.function, event, args.env_vars)
    except (StackNotRunning, BadEnvFile) as exc:
        raise UsageError(str(exc)) from None
    except Exception as exc:
        print(json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}, indent=2))
        return 1
    print(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
