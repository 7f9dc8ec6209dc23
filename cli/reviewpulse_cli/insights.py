"""`reviewpulse insights TASK_ID [--output table|json]`: what a ready task's batch says per segment,
over time and per theme, and what changed since its baseline (options.compare_to), as tables."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from reviewpulse_cli.connect import add_api_options, open_client
from reviewpulse_cli.output import themes_by_count

# Segments and time buckets shown per table; `--output json` has them all.
SHOWN = 15
TREND_BUCKETS = 6  # buckets (and category segments) per row of the trend tables


def register(commands: argparse._SubParsersAction) -> None:
    insights = add_api_options(
        commands.add_parser("insights", help="a ready task's insights: segments, time, themes, what changed")
    )
    insights.add_argument("task_id")
    insights.add_argument("--output", "-o", choices=["table", "json"], default="table")
    insights.set_defaults(run=insights_command)


def insights_command(args: argparse.Namespace) -> int:
    client = open_client(args)
    try:
        found = client.insights(args.task_id)
    finally:
        client.close()
    if args.output == "json":
        json.dump(found, sys.stdout, indent=2)
        print()
        return 0
    print_tables(found)
    return 0


def p_text(value: float | None) -> str:
    """A p-value as people read it: never "0" (a p-value is never zero, only below what is shown)."""
    if value is None:
        return "n/a"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def net_text(stats: dict[str, Any]) -> str:
    net = stats.get("net_sentiment")
    if net is None:
        return "n/a"
    low, high = stats.get("net_sentiment_ci95") or (None, None)
    interval = f" [{low:+.2f}, {high:+.2f}]" if low is not None and high is not None else ""
    return f"{net:+.2f}{interval}"


def compared_with(comparison: dict[str, Any]) -> str:
    """What the changes are measured from: an earlier task, or the earlier period of this file."""
    periods = comparison.get("periods")
    if not periods:
        return f"since {comparison['baseline_task_id']}"
    before, after = periods["before"], periods["after"]
    return (
        f"from {before['first']}..{before['last']} ({before['items']:,} items) "
        f"to {after['first']}..{after['last']} ({after['items']:,} items) by {periods['field']}"
    )


def print_comparison(found: dict[str, Any]) -> None:
    """`analyze` with a comparison: one line naming the significant changes, largest first."""
    comparison = found.get("comparison")
    if not comparison:
        return  # the task's warning says why (periods-not-compared, baseline-not-found)
    significant = sorted((c for c in comparison["changes"] if c["significant"]), key=lambda c: -abs(c["change"]))
    named = "; ".join(
        f"{' '.join(str(p) for p in (c.get('column'), c.get('key')) if p is not None) or c['kind']} "
        f"{c['measure'].replace('_', ' ')} {c['baseline']:+.2f} -> {c['current']:+.2f}"
        for c in significant[:3]
    )
    print(
        f"compared {compared_with(comparison)}: {len(significant)} significant changes of "
        f"{len(comparison['changes'])}" + (f"; the largest: {named}" if named else "")
    )


def print_tables(found: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    comparison = found.get("comparison")
    if comparison:  # what changed comes first: it is what the analyst asked for
        table = Table(
            "kind", "of", "measure", "baseline", "current", "change", "p (adjusted)", "significant",
            title=f"changes {compared_with(comparison)}",
        )  # fmt: skip
        changes = sorted(comparison["changes"], key=lambda c: (not c["significant"], -abs(c["change"])))
        for change in changes:
            table.add_row(
                change["kind"],
                " ".join(str(part) for part in (change.get("column"), change.get("key")) if part is not None),
                change["measure"],
                f"{change['baseline']:+.3f}",
                f"{change['current']:+.3f}",
                f"{change['change']:+.3f}",
                p_text(change.get("p_adjusted")),
                "yes" if change["significant"] else "",
            )
        console.print(table)
        for note in comparison.get("notes") or []:
            print(f"note: {note}", file=sys.stderr)
    overall = found["overall"]
    print(f"overall: {overall['items']:,} items, net sentiment {net_text(overall)}")
    for column in found.get("segments") or []:
        table = Table("value", "items", "net sentiment [95% interval]", title=f"by {column['column']} (worst first)")
        rows = sorted(column["segments"], key=lambda s: (s.get("net_sentiment") is None, s.get("net_sentiment") or 0))
        for segment in rows[:SHOWN]:
            value = "(blank)" if segment.get("value") is None else str(segment["value"])
            table.add_row(value, f"{segment['items']:,}", net_text(segment))
        console.print(table)
    time = found.get("time")
    if time and time.get("buckets"):
        table = Table("from", "items", "net sentiment [95% interval]", title=f"by {time['bucket']} of {time['field']}")
        for bucket in time["buckets"][-SHOWN:]:
            table.add_row(str(bucket["start"]), f"{bucket['items']:,}", net_text(bucket))
        console.print(table)
    if time and time.get("segments"):
        print_trends(console, time)
    listed = found.get("categories") or []
    if listed:
        table = Table("category", "items", "net sentiment [95% interval]", "examples", title="categories")
        for category in listed:
            table.add_row(
                str(category["name"]), f"{category['items']:,}", net_text(category), ", ".join(category["example_ids"])
            )
        console.print(table)
        print_category_segments(console, listed)
    themes = found.get("themes") or []
    if themes:
        # The categories each theme is under (categories[].themes), when any is under one
        under: dict[str, list[str]] = {}
        for category in listed:
            for phrase in category.get("themes") or []:
                under.setdefault(phrase, []).append(str(category["name"]))
        table = Table("side", "theme", "items", *(["category"] if under else []), title="themes")
        for theme in themes_by_count(themes):
            named = [", ".join(under.get(theme["phrase"], [])) or "-"] if under else []
            table.add_row(str(theme["polarity"]), str(theme["phrase"]), f"{theme['count']:,}", *named)
        console.print(table)


def cell(stats: dict[str, Any]) -> str:
    net = stats.get("net_sentiment")
    return f"{net:+.2f} ({stats['items']:,})" if net is not None else f"n/a ({stats['items']:,})"


def print_trends(console: Any, time: dict[str, Any], last: int = TREND_BUCKETS) -> None:
    """The largest segments' net sentiment (items) in the last few buckets, one row per segment."""
    from rich.table import Table

    starts = sorted({b["start"] for t in time["segments"] for b in t["buckets"]})[-last:]
    table = Table(
        "segment", *starts, title=f"trend per segment, net sentiment (items), last {len(starts)} {time['bucket']}s"
    )
    for trend in time["segments"]:
        by_start = {b["start"]: b for b in trend["buckets"]}
        value = "(blank)" if trend["value"] is None else str(trend["value"])
        table.add_row(value, *(cell(by_start[s]) if s in by_start else "" for s in starts))
    console.print(table)


def print_category_segments(console: Any, categories: list[dict[str, Any]]) -> None:
    """Each category in the largest segments of the first group_by column: net sentiment (items)."""
    from rich.table import Table

    column = next((c["segments"][0]["column"] for c in categories if c.get("segments")), None)
    if column is None:
        return
    cuts = [(c["name"], {s["value"]: s for s in c.get("segments") or [] if s["column"] == column}) for c in categories]
    values = list(dict.fromkeys(v for _, found in cuts for v in found))[:TREND_BUCKETS]
    table = Table("category", *("(blank)" if v is None else str(v) for v in values),
                  title=f"categories by {column}, net sentiment (items)")  # fmt: skip
    for name, found in cuts:
        table.add_row(name, *(cell(found[v]) if v in found else "" for v in values))
    console.print(table)
