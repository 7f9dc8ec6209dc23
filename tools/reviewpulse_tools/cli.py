"""`reviewpulse`: the command-line client.

    reviewpulse keys create --tenant NAME (--stack STACK | --table TABLE)
    reviewpulse keys revoke --tenant NAME --key-id ID (--stack STACK | --table TABLE)
    reviewpulse keys list --tenant NAME (--stack STACK | --table TABLE)

`keys create` prints only the new key on standard output (it is stored hashed and cannot be shown
again); everything else goes to standard error. boto3's usual settings apply: AWS_PROFILE,
AWS_REGION, and AWS_ENDPOINT_URL for a local stack.
"""

from __future__ import annotations

import argparse
import sys

from botocore.exceptions import BotoCoreError, ClientError

from reviewpulse_tools.keys import KeyAdminError, create_key, list_keys, resolve_target, revoke_key, session_for


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reviewpulse", description="ReviewPulse command-line client")
    commands = parser.add_subparsers(dest="command", required=True)
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
        sub.add_argument("--usage-plan-id", help="with --table: the usage plan that throttles tenants")
        sub.add_argument("--profile")
        sub.add_argument("--region")
        if action == "revoke":
            sub.add_argument("--key-id", required=True, help="the key id printed by `keys create` (a prefix will do)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        session = session_for(args.profile, args.region)
        target = resolve_target(session, stack=args.stack, table=args.table, usage_plan_id=args.usage_plan_id)
        if args.action == "create":
            key, record = create_key(session, target, args.tenant)
            print(key)
            print(f"created key {record.key_id} for tenant {record.tenant}; it is shown only once", file=sys.stderr)
        elif args.action == "revoke":
            record = revoke_key(session, target, args.tenant, args.key_id)
            print(f"revoked key {record.key_id} of tenant {record.tenant}", file=sys.stderr)
        else:
            for record in list_keys(session, target, args.tenant):
                print(f"{record.key_id}\t{record.status}\t{record.created_at}")
    except KeyAdminError as exc:
        print(f"reviewpulse: {exc}", file=sys.stderr)
        return 2
    except (ClientError, BotoCoreError) as exc:
        print(f"reviewpulse: AWS said: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
