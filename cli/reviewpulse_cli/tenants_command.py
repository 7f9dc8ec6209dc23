"""`reviewpulse tenants budget --tenant NAME [--usd N]`: a tenant's monthly LLM budget on a deployed
stack, any budgets table, or a running local stack; `reviewpulse tenants erase --tenant NAME --yes`:
erase all of a tenant's data there (as DELETE /v1/tenant/data does), printing the receipt. boto3
and the domain's modules load only when a command runs."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from reviewpulse_cli.connect import local_stack_table
from reviewpulse_cli.errors import UsageError


def register(commands: argparse._SubParsersAction) -> None:
    tenants = commands.add_parser(
        "tenants", help="tenants' monthly LLM budgets; erasing a tenant's data"
    ).add_subparsers(dest="action", required=True)
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

    erase = tenants.add_parser(
        "erase", help="erase every task, file, result, webhook, budget and cache entry of a tenant (keys stay)"
    )
    erase.add_argument("--tenant", required=True)
    erase.add_argument("--yes", action="store_true", help="really erase (nothing can bring the data back)")
    where = erase.add_mutually_exclusive_group()
    where.add_argument("--stack", help="a deployed ReviewPulse stack's name")
    where.add_argument("--local", action="store_true", help="the running local stack")
    erase.add_argument("--state", type=Path, help="with --local: that stack's state file")
    erase.add_argument("--profile")
    erase.add_argument("--region")
    erase.set_defaults(run=erase_command)


# What erasure touches, by the template's logical ids (found by name on the stack or the local one).
_ERASED = (
    "TasksTable",
    "WebhooksTable",
    "BudgetsTable",
    "ResultCacheTable",
    "ProviderBatchesTable",
    "ModelsTable",
    "DataBucket",
)


def erase_command(args: argparse.Namespace) -> int:
    import json
    from dataclasses import asdict

    from reviewpulse.tenants.keys import is_valid_tenant

    if not is_valid_tenant(args.tenant):
        raise UsageError("a tenant name is 2-63 characters of a-z, 0-9 and '-'")
    if args.state and not args.local:
        raise UsageError("--state names a local stack: use it with --local")
    if not (args.stack or args.local):
        raise UsageError("name the stack (--stack) or --local")
    if not args.yes:
        raise UsageError(f"erasing tenant {args.tenant!r} cannot be undone: add --yes")

    import boto3
    from reviewpulse.analysis.cache import ResultCache
    from reviewpulse.provider_batches.repository import ProviderBatchRepository
    from reviewpulse.storage.objects import BucketObjects
    from reviewpulse.tasks.repository import TaskRepository
    from reviewpulse.tenant_models.repository import ModelRepository
    from reviewpulse.tenants.budgets import BudgetRepository
    from reviewpulse.usecases.erase_tenant import TenantData, erase_tenant
    from reviewpulse.webhooks.store import WebhookRepository

    if args.local:
        names = {logical: local_stack_table(args.state, logical) for logical in _ERASED if logical != "DataBucket"}
    session = boto3.session.Session(profile_name=args.profile, region_name=args.region)
    if args.local:
        prefix = names["TasksTable"].removesuffix("TasksTable") + "data-"
        buckets = [b["Name"] for b in session.client("s3").list_buckets()["Buckets"] if b["Name"].startswith(prefix)]
        names["DataBucket"] = buckets[0]
    else:
        names = _stack_resources(args.stack, session)
    ddb = session.client("dynamodb")
    data = TenantData(
        tasks=TaskRepository(names["TasksTable"], ddb),  # announces nothing, as the API's erasure
        objects=BucketObjects(names["DataBucket"], session.client("s3")),
        webhooks=WebhookRepository(names["WebhooksTable"], ddb),
        budgets=BudgetRepository(names["BudgetsTable"], ddb),
        cache=ResultCache(names["ResultCacheTable"], ddb, ttl_days=1),
        provider_batches=ProviderBatchRepository(names["ProviderBatchesTable"], ddb),
        models=ModelRepository(names["ModelsTable"], ddb),
    )
    from reviewpulse.observability import logger

    # The domain's structured log line would go to stdout, where the receipt goes; the receipt says it all.
    logger.setLevel("WARNING")
    receipt = erase_tenant(args.tenant, data)
    print(json.dumps({**asdict(receipt), "kept": list(receipt.kept)}, indent=2))
    return 0


def _stack_resources(stack: str, session: Any) -> dict[str, str]:
    resources = session.client("cloudformation").describe_stack_resources(StackName=stack)["StackResources"]
    names = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources}
    missing = [logical for logical in _ERASED if logical not in names]
    if missing:
        raise UsageError(f"stack {stack!r} has no {', '.join(missing)}: is it a ReviewPulse stack?")
    return {logical: names[logical] for logical in _ERASED}


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
