"""`reviewpulse tenants budget --tenant NAME [--usd N]`: a tenant's monthly LLM budget on a deployed
stack, any budgets table, or a running local stack. boto3 and the domain's budgets module load
only when the command runs."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from reviewpulse_tools.cli.connect import local_stack_table
from reviewpulse_tools.cli.errors import UsageError


def register(commands: argparse._SubParsersAction) -> None:
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
    budget.add_argument(
        "--state", type=Path, help="with --local: that stack's state file (as `reviewpulse dev` printed it)"
    )
    budget.add_argument("--profile")
    budget.add_argument("--region")
    budget.set_defaults(run=tenants_command)


def tenants_command(args: argparse.Namespace) -> int:
    from reviewpulse.tenants.keys import is_valid_tenant

    if not is_valid_tenant(args.tenant):
        raise UsageError("a tenant name is 2-63 characters of a-z, 0-9 and '-'")
    if args.usd is not None and not 0 < args.usd <= 10_000_000:
        raise UsageError("--usd must be more than 0 (and at most 10,000,000)")
    if args.state and not args.local:
        raise UsageError("--state names a local stack: use it with --local")
    table = local_stack_table(args.state, "BudgetsTable") if args.local else args.table

    import boto3
    from reviewpulse.clock import now
    from reviewpulse.tenants.budgets import BudgetRepository, month_of

    session = boto3.session.Session(profile_name=args.profile, region_name=args.region)
    budgets = BudgetRepository(table or _stack_table(args, session), session.client("dynamodb"))
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


def _stack_table(args: argparse.Namespace, session: Any) -> str:
    if not args.stack:
        raise UsageError("name the stack (--stack), the budgets table (--table) or --local")
    described = session.client("cloudformation").describe_stacks(StackName=args.stack)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    if "BudgetsTableName" not in outputs:
        raise UsageError(f"stack {args.stack!r} has no BudgetsTableName output")
    return outputs["BudgetsTableName"]
