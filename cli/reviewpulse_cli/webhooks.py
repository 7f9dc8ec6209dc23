"""`reviewpulse webhooks add --url … | list | remove WEBHOOK_ID | rotate WEBHOOK_ID [--overlap 24h]`: the
tenant's webhooks over the API.

Like every command module, it imports what it uses (the HTTP client) only when it runs.
"""

from __future__ import annotations

import argparse
import re
import sys

from reviewpulse_cli.connect import add_api_options, open_client


def register(commands: argparse._SubParsersAction) -> None:
    webhooks = commands.add_parser("webhooks", help="your webhooks: task events POSTed, signed, to your URL")
    actions = webhooks.add_subparsers(dest="action", required=True)
    add = add_api_options(actions.add_parser("add", help="register a webhook; prints its signing secret (shown once)"))
    add.add_argument("--url", required=True, help="an https URL on a public address")
    add_api_options(actions.add_parser("list", help="list your webhooks"))
    remove = add_api_options(actions.add_parser("remove", help="remove a webhook"))
    remove.add_argument("webhook_id")
    rotate = add_api_options(
        actions.add_parser(
            "rotate", help="a new signing secret (printed once); the old one still signs during the overlap"
        )
    )
    rotate.add_argument("webhook_id")
    rotate.add_argument(
        "--overlap",
        type=parse_overlap,
        default=None,
        help="how long the old secret still signs beside the new: 90s, 30m, 24h, 7d or 0 (default: 24h, at most 7d)",
    )
    webhooks.set_defaults(run=webhooks_command)


_DURATION = re.compile(r"^(\d{1,7})([smhd]?)$")
_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86_400}


def parse_overlap(text: str) -> int:
    """`24h` → 86400 seconds (s, m, h, d; a bare number is seconds). The API holds the bounds."""
    match = _DURATION.match(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration such as 90s, 30m, 24h or 7d")
    return int(match.group(1)) * _SECONDS[match.group(2)]


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
    if args.action == "rotate":
        rotated = client.rotate_webhook_secret(args.webhook_id, args.overlap)
        print(
            f"webhook {rotated['webhook_id']}: new signing secret (shown only now) follows; the old one "
            f"signs beside it until {rotated['previous_secret_valid_until']}",
            file=sys.stderr,
        )
        print(rotated["secret"])
        return 0
    client.delete_webhook(args.webhook_id)
    print(f"webhook {args.webhook_id} removed", file=sys.stderr)
    return 0
