"""What the LLM may spend, from the command line: the quote shown before a run starts
(`analyze FILE --quote`), resuming a paused task, and tenants' monthly budgets
(`tenants budget --tenant NAME --usd N`).

Only argparse at import: the heavy imports (boto3, the domain's budgets module, the local stack)
happen inside the commands that use them, so other commands stay fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any

from reviewpulse_tools.cli.errors import UsageError


def register(commands: argparse._SubParsersAction) -> None:
    from reviewpulse_tools.cli.connect import add_api_options

    resume = add_api_options(commands.add_parser("resume", help="continue a task a budget paused"))
    add_resume_command(resume)
    resume.set_defaults(run=_resume)
    add_tenant_commands(commands)


def _resume(args: argparse.Namespace) -> int:
    from reviewpulse_tools.cli.connect import open_client

    client = open_client(args)
    try:
        return resume_command(client, args)
    finally:
        client.close()


def add_quote_arguments(analyze: argparse.ArgumentParser) -> None:
    analyze.add_argument("--quote", action="store_true", help="show what the run will cost and ask before starting it")
    analyze.add_argument("--yes", action="store_true", help="with --quote: start without asking (for scripts)")
    analyze.add_argument("--max-cost-usd", type=float, help="most this task's LLM requests may cost (US dollars)")
    analyze.add_argument(
        "--on-budget-exhausted",
        choices=["lexicon", "pause"],
        help="when a budget runs out: the lexicon answers the items left (default), or the task pauses",
    )


def spending_options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if getattr(args, "quote", False):
        options["quote_only"] = True
    if getattr(args, "max_cost_usd", None) is not None:
        options["max_cost_usd"] = args.max_cost_usd
    if getattr(args, "on_budget_exhausted", None):
        options["on_budget_exhausted"] = args.on_budget_exhausted
    return options


def describe_quote(task: dict[str, Any]) -> str:
    quote = task["quote"]
    return (
        f"quote for task {task['task_id']}: {quote['items']:,} items, {quote['llm_items']:,} to the LLM in "
        f"{quote['requests']:,} requests, about {quote['input_tokens']:,} tokens in and "
        f"{quote['output_tokens']:,} out: about ${quote['estimated_cost_usd']:.4f}"
    )


def confirm_quote(
    task: dict[str, Any], *, yes: bool, ask: Callable[[str], str] = input, interactive: bool | None = None
) -> bool:
    """Show the quote (standard error) and whether to start: --yes starts, a terminal is asked,
    anything else (a pipe without --yes) does not start."""
    print(describe_quote(task), file=sys.stderr)
    if yes:
        return True
    if not (sys.stdin.isatty() if interactive is None else interactive):
        print("not started: pass --yes to start without asking", file=sys.stderr)
        return False
    return ask("start it? [y/N] ").strip().lower() in ("y", "yes")


def add_resume_command(resume: argparse.ArgumentParser) -> None:
    resume.add_argument("task_id")
    resume.add_argument("--max-cost-usd", type=float, help="a higher budget for a task its own budget paused")


def resume_command(client: Any, args: argparse.Namespace) -> int:
    task = client.resume(args.task_id, args.max_cost_usd)
    print(f"task {task['task_id']} is {task['status']}", file=sys.stderr)
    return 0


def add_tenant_commands(commands: Any) -> None:
    tenants = commands.add_parser("tenants", help="tenants' monthly LLM budgets").add_subparsers(
        dest="action", required=True
    )
    budget = tenants.add_parser("budget", help="set (with --usd) or show a tenant's monthly LLM budget")
    budget.add_argument("--tenant", required=True)
    budget.add_argument("--usd", type=float, help="the monthly budget in US dollars; leave out to show it")
    where = budget.add_mutually_exclusive_group()
    where.add_argument("--stack", help="a deployed ReviewPulse stack's name")
    where.add_argument("--table", help="the budgets table's name")
    where.add_argument("--local", action="store_true", help="the running local stack")
    budget.add_argument("--profile")
    budget.add_argument("--region")
    budget.set_defaults(run=tenants_command)


def tenants_command(args: argparse.Namespace) -> int:
    import boto3
    from reviewpulse.clock import now
    from reviewpulse.tenants.budgets import BudgetRepository, month_of
    from reviewpulse.tenants.keys import is_valid_tenant

    if not is_valid_tenant(args.tenant):
        raise UsageError("a tenant name is 2-63 characters of a-z, 0-9 and '-'")
    if args.usd is not None and not 0 < args.usd <= 10_000_000:
        raise UsageError("--usd must be more than 0 (and at most 10,000,000)")
    session = boto3.session.Session(profile_name=args.profile, region_name=args.region)
    table = _budgets_table(args, session)
    budgets = BudgetRepository(table, session.client("dynamodb"))
    if args.usd is not None:
        budgets.set_monthly(args.tenant, args.usd)
    month = budgets.month(args.tenant, month_of(now()))
    limit = "none" if month.limit_micros is None else f"${month.limit_micros / 1_000_000:,.2f}"
    print(
        f"tenant {args.tenant}: monthly budget {limit}; spent in {month.month} "
        f"${month.settled_micros / 1_000_000:,.4f}"
        + (f" ({month.used_percent:.1f}%)" if month.used_percent is not None else "")
    )
    return 0


def _budgets_table(args: argparse.Namespace, session: Any) -> str:
    if args.table:
        return args.table
    if args.local:
        from reviewpulse_tools.local.stack import STACK_NAME, aws_environment, read_state

        state = read_state()
        if state is None:
            raise UsageError("no local stack is running: start one with `make dev`")
        os.environ.update(aws_environment(state["aws_endpoint"]))
        return f"{STACK_NAME}-BudgetsTable"
    if not args.stack:
        raise UsageError("name the stack (--stack), the budgets table (--table) or --local")
    described = session.client("cloudformation").describe_stacks(StackName=args.stack)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    if "BudgetsTableName" not in outputs:
        raise UsageError(f"stack {args.stack!r} has no BudgetsTableName output")
    return outputs["BudgetsTableName"]
