"""`reviewpulse webhooks add --url … | list | remove WEBHOOK_ID`: the tenant's webhooks over the API.

Registered on the CLI's parser by main.py; like every command, it imports what it uses (the HTTP
client) only when it runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

AddApiOptions = Callable[[argparse.ArgumentParser], argparse.ArgumentParser]


def add_parser(commands: Any, with_api: AddApiOptions) -> None:
    webhooks = commands.add_parser("webhooks", help="your webhooks: task events POSTed, signed, to your URL")
    actions = webhooks.add_subparsers(dest="action", required=True)
    add = with_api(actions.add_parser("add", help="register a webhook; prints its signing secret (shown once)"))
    add.add_argument("--url", required=True, help="an https URL on a public address")
    with_api(actions.add_parser("list", help="list your webhooks"))
    remove = with_api(actions.add_parser("remove", help="remove a webhook"))
    remove.add_argument("webhook_id")


def run(client: Any, args: argparse.Namespace) -> int:
    """`client` is the CLI's ApiClient."""
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
