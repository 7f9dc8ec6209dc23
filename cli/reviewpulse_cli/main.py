"""`reviewpulse`: the command-line client (and, with the developer tools installed, the local stack's
front door: `dev` and `invoke` come from tools/reviewpulse_tools/dev through entry points).

    reviewpulse analyze FILE [--out results.csv|.jsonl]   analyse a file, with a progress bar
    reviewpulse analyze --text "…"                        analyse one text
    reviewpulse analyze FILE --quote [--yes]              show what the run will cost, then start it
    reviewpulse resume TASK_ID [--max-cost-usd N]         continue a task a budget paused
    reviewpulse evaluate FILE --label-field COL [--engines lexicon,auto,llm]   engines side by side
    reviewpulse status TASK_ID | wait TASK_ID | results TASK_ID | tasks [--all]   (--output table|json|csv)
    reviewpulse insights TASK_ID [--output table|json]    segments, time, themes, what changed
    reviewpulse keys create|list|expire|revoke --tenant NAME [--scopes read,analyze] [--expires 90d] [--name N] (--stack S | --table T | --local)
    reviewpulse tenants budget --tenant NAME [--usd N] (--stack S | --table T | --local)
    reviewpulse tenants erase --tenant NAME --yes (--stack S | --local)   erase all of a tenant's data
    reviewpulse webhooks add --url URL | list | remove WEBHOOK_ID
    reviewpulse models train (FILE | --task TASK_ID) --label-field F | list | show ID | delete ID | default [ID | --none]
    reviewpulse dev [--port 3000] [--aws-port 5005]      run the local stack in the foreground
    reviewpulse invoke FunctionLogicalId --event events/x.json   like `sam local invoke`

The API is found from --endpoint/--api-key, else REVIEWPULSE_ENDPOINT/REVIEWPULSE_API_KEY, else
the running local stack. `keys create` prints only the new key on standard output.

Each command lives in a module of its own that registers its parser; those modules import only
the standard library at the top and load what a command needs (the HTTP client, boto3, the local
stack) when it runs. Only the module of the command being run is imported and registered (all of
them for the top-level help), so `reviewpulse --help` and `status` start as fast as Python does.
A new command: a module with `register(commands)` setting `run`, and its line in COMMAND_MODULES
(or, from another package, an entry point in the `reviewpulse.commands` group: plugins.py finds
those without reading every installed distribution on each start).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from reviewpulse_cli.errors import CliError
from reviewpulse_cli.plugins import plugin_commands

# module → the commands it registers, in the order `reviewpulse --help` lists them
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "reviewpulse_cli.analyze": ("analyze", "wait", "resume"),
    "reviewpulse_cli.evaluate": ("evaluate",),
    "reviewpulse_cli.read": ("status", "results", "report", "tasks"),
    "reviewpulse_cli.insights": ("insights",),
    "reviewpulse_cli.keys_command": ("keys",),
    "reviewpulse_cli.tenants_command": ("tenants",),
    "reviewpulse_cli.webhooks": ("webhooks",),
    "reviewpulse_cli.models": ("models",),
}


def _plugin_modules(named: str | None) -> list[str]:
    """The modules of the plugin commands (plugins.py): the one named, or all of them (for the help)."""
    found = plugin_commands()
    return list(dict.fromkeys(module for name, module in found if named is None or name == named))


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser; given the arguments, only with the module of the command they name."""
    parser = argparse.ArgumentParser(prog="reviewpulse", description="ReviewPulse command-line client")
    commands = parser.add_subparsers(dest="command", required=True)
    named = argv[0] if argv else None  # the command comes first; `reviewpulse -h …` shows them all
    modules = [module for module, names in COMMAND_MODULES.items() if named in names]
    if not modules:
        modules = _plugin_modules(named) or list(COMMAND_MODULES) + _plugin_modules(None)
    for module in modules:
        importlib.import_module(module).register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv).parse_args(argv)
    try:
        return args.run(args)
    except CliError as exc:
        print(f"reviewpulse: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if _is_aws_error(exc):
            print(f"reviewpulse: AWS said: {exc}", file=sys.stderr)
            return 1
        raise


def _is_aws_error(exc: Exception) -> bool:
    # botocore is loaded only by the commands that talk to AWS; if it is not loaded, it did not raise.
    exceptions = sys.modules.get("botocore.exceptions")
    return exceptions is not None and isinstance(exc, exceptions.BotoCoreError | exceptions.ClientError)


if __name__ == "__main__":
    sys.exit(main())
