"""`reviewpulse keys create|list|expire|revoke`: tenants' API keys on a deployed stack, any keys table, or
a running local stack. boto3 and the key administration load only when a keys command runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reviewpulse_cli.connect import local_stack_table
from reviewpulse_cli.errors import UsageError


def register(commands: argparse._SubParsersAction) -> None:
    keys = commands.add_parser("keys", help="manage tenants' API keys").add_subparsers(dest="action", required=True)
    for action, help_text in (
        ("create", "create a key for a tenant"),
        ("expire", "end one of a tenant's keys now (or at --at); unlike revoke, the expiry can be moved"),
        ("revoke", "revoke one of a tenant's keys"),
        ("list", "list a tenant's keys"),
    ):
        sub = keys.add_parser(action, help=help_text)
        sub.add_argument("--tenant", required=True)
        where = sub.add_mutually_exclusive_group()
        where.add_argument("--stack", help="a deployed ReviewPulse stack's name")
        where.add_argument("--table", help="the keys table's name")
        where.add_argument(
            "--local",
            action="store_true",
            help="the running local stack (the one whose state file is --state, $REVIEWPULSE_STATE or .local/stack.json)",
        )
        sub.add_argument(
            "--state", type=Path, help="with --local: that stack's state file (as `reviewpulse dev` printed it)"
        )
        sub.add_argument("--usage-plan-id", help="with --table: the usage plan that throttles tenants")
        sub.add_argument("--profile")
        sub.add_argument("--region")
        if action in ("revoke", "expire"):
            sub.add_argument("--key-id", required=True, help="the key id printed by `keys create` (a prefix will do)")
        if action == "expire":
            sub.add_argument("--at", help="when it stops working instead of now: 12h, 7d or an ISO 8601 time")
        if action == "create":
            sub.add_argument(
                "--scopes",
                help="comma-separated: read (tasks, results, insights), analyze (create, start, resume, cancel), "
                "admin (webhooks, budgets, models, erasure); default all three",
            )
            sub.add_argument("--expires", help="when the key stops working: 90d, 12h, 30m or an ISO 8601 time")
            sub.add_argument("--name", default="", help="what the key is for, shown by `keys list`")
        sub.set_defaults(run=keys_command)


def keys_command(args: argparse.Namespace) -> int:
    from reviewpulse.tenants.scopes import scopes_text

    from reviewpulse_cli.keys import (
        create_key,
        expire_key,
        list_keys,
        parse_expiry,
        parse_key_scopes,
        resolve_target,
        revoke_key,
        session_for,
    )

    table = args.table
    usage_key = None
    if args.state and not args.local:
        raise UsageError("--state names a local stack: use it with --local")
    if args.local:
        from reviewpulse_cli.local_state import local_usage_key

        table = local_stack_table(args.state, "KeysTable")
        usage_key = local_usage_key(args.tenant)
    # Checked before any AWS call: a typo in a scope or a time costs nothing.
    scopes = parse_key_scopes(args.scopes) if args.action == "create" else None
    expires_at = parse_expiry(args.expires) if args.action == "create" else None
    expire_at = parse_expiry(args.at, allow_now=True) if args.action == "expire" else None
    session = session_for(args.profile, args.region)
    target = resolve_target(session, stack=args.stack, table=table, usage_plan_id=args.usage_plan_id)
    if args.action == "create":
        key, record = create_key(
            session, target, args.tenant, usage_key=usage_key, scopes=scopes, expires_at=expires_at, name=args.name
        )
        print(key)
        print(
            f"created key {record.key_id} for tenant {record.tenant} with scopes {scopes_text(record.scopes)}"
            f"{', expiring ' + record.expires_at if record.expires_at else ''}; it is shown only once",
            file=sys.stderr,
        )
    elif args.action == "expire":
        record = expire_key(session, target, args.tenant, args.key_id, expire_at)
        print(f"key {record.key_id} of tenant {record.tenant} expires at {record.expires_at}", file=sys.stderr)
    elif args.action == "revoke":
        record = revoke_key(session, target, args.tenant, args.key_id)
        print(f"revoked key {record.key_id} of tenant {record.tenant}", file=sys.stderr)
    else:
        # Never the key (only its hash is stored): its id, state, scopes, expiry, creation and name.
        for record in list_keys(session, target, args.tenant):
            scopes_column = ",".join(scopes_text(record.scopes).split())
            print(
                f"{record.key_id}\t{record.state()}\t{scopes_column}\t{record.expires_at or '-'}"
                f"\t{record.created_at}\t{record.name}"
            )
    return 0
