"""`--output table|json|csv` for the read commands.

Tables are padded plain text, not rich tables: rich fits a table to the terminal's width by
cutting or folding cells, and a task id cut to `01a22b4d8a…` cannot be pasted into the next
command. Here no cell is ever shortened; a wide table wraps as the terminal wraps any long line.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TextIO

FORMATS = ("table", "json", "csv")


def add_output_option(sub: argparse.ArgumentParser, default: str = "table") -> None:
    sub.add_argument(
        "--output",
        "-o",
        choices=FORMATS,
        default=default,
        help=f"table (aligned columns, values never cut), json, or csv (default: {default})",
    )


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, Mapping | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def write_rows(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], fmt: str, out: TextIO | None = None) -> None:
    """Rows (mappings) as a table or CSV with these columns, or as one JSON object per line."""
    out = out or sys.stdout
    if fmt == "json":
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        return
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([cell(row.get(column)) for column in columns])
        return
    table = [list(columns)] + [[cell(row.get(column)) for column in columns] for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(columns))]
    for line in table:
        out.write("  ".join(value.ljust(width) for value, width in zip(line, widths, strict=True)).rstrip() + "\n")


def flatten(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects as dotted names (`progress.total`); lists stay whole."""
    flat: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def write_record(record: Mapping[str, Any], fmt: str, out: TextIO | None = None) -> None:
    """One object: JSON as the API gave it, a `field value` table, or a one-row CSV."""
    out = out or sys.stdout
    if fmt == "json":
        out.write(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
        return
    flat = flatten(record)
    if fmt == "csv":
        write_rows([flat], list(flat), "csv", out)
        return
    write_rows(({"field": k, "value": v} for k, v in flat.items()), ["field", "value"], "table", out)


def themes_by_count(themes: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Themes as a terminal lists them beside their counts: praise first, then complaints, each
    side most items first (ties by name). The API ranks them by how strongly they lean to their
    side (z), which read beside counts looks like a mistake: `started (3)` above `support (4)`."""
    side = {"praise": 0, "complaint": 1}
    return sorted(
        themes,
        key=lambda t: (
            side.get(str(t.get("polarity")), 2),
            -int(t.get("count") or 0),
            str(t.get("phrase") or t.get("theme")),
        ),
    )
