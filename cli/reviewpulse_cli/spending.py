"""What the LLM may spend, from `reviewpulse analyze`: its options (--quote, --max-cost-usd,
--on-budget-exhausted) and the quote shown, and asked about, before a run starts.

Standard library only: `analyze --help` loads this.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

# Statuses a task waits in for its owner: `analyze` and `wait` stop waiting and say how to go on.
WAITING = ("quoted", "paused")


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
