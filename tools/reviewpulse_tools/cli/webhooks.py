"""`reviewpulse webhooks add --url … | list | remove WEBHOOK_ID`: the tenant's webhooks over the API.

Like every command module, it imports what it uses (the HTTP client) only when it runs.
"""

from __future__ import annotations

import argparse
import sys

from reviewpulse_tools.cli.connect import add_api_options, open_client


def register(commands: argparse._SubParsersAction) -> None:
    webhooks = commands.add_parser("webhooks", help="your webhooks: task events POSTed, signed, to your URL")
    actions = webhooks.add_subparsers(dest="action", required=True)
    add = add_api_options(actions.add_parser("add", help="register a webhook; prints its signing secret (shown once)"))
    add.add_argument("--url", required=True, help="an https URL on a public address")
    add_api_options(actions.add_parser("list", help="list your webhooks"))
    remove = add_api_options(actions.add_parser("remove", help="remove a webhook"))
    remove.add_argument("webhook_id")
    webhooks.set_defaults(run=webhooks_command)


def webhooks_command(args: argparse.Namespace) -> int:
    client = open_client(args)
    try:
        return _run(client, args)
    finally:
        client.close()


def _run(client, args: argparse.Namespace) -> int:
    if args.action == "add":
        created = client.create_webhook(args.url)
        # The secret alone on standard output (as `keys create` prints a key), the rest on stderr.
        print(
            f"webhook {created['webhook_id']} registered for {created['url']}; "
            "its signing secret (shown only now) follows",
            file=sys.stderr,
        )
        print(created["secret"])
        return 0
    if args.action == "list":
        for webhook in client.webhooks()["items"]:
            print(f"{webhook['webhook_id']}  {webhook['created_at']}  {webhook['url']}")
        return 0
    client.delete_webhook(args.webhook_id)
    print(f"webhook {args.webhook_id} removed", file=sys.stderr)
    return 0
