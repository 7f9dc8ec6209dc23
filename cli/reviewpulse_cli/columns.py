"""What `reviewpulse analyze` checks before it uploads a file: that the columns its options name
are in the file, read as the split function will read it (same delimiter rule, same header).

The API matches `text_field` and `id_field` ignoring case and surrounding spaces, but `group_by`,
`time_field` and `label_field` exactly (an unmatched one only becomes a warning on a task that still runs), so a
near miss of those is refused here with the column the user probably meant.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

# JSON and JSON Lines name their columns object by object: this many rows are read to find them.
SAMPLE_ROWS = 10_000


@dataclass(frozen=True)
class Named:
    """A column an option names: the option as typed, the value, and whether case may differ."""

    option: str
    column: str
    any_case: bool


def named_columns(
    *,
    text_field: str | None,
    id_field: str | None,
    group_by: list[str],
    time_field: str | None,
    label_field: str | None = None,
) -> list[Named]:
    named = [Named("--text-field", text_field, True)] if text_field else []
    named += [Named("--id-field", id_field, True)] if id_field else []
    named += [Named("--group-by", column, False) for column in group_by]
    named += [Named("--time-field", time_field, False)] if time_field else []
    named += [Named("--label-field", label_field, False)] if label_field else []
    return named


def problems(
    path: Path, file_format: str, delimiter: str | None, named: list[Named], *, sheet: str | None = None
) -> list[str]:
    """One line per problem the API would meet with this file and these options; none if it is fine."""
    from reviewpulse.ingest.file_spec import FileSpec
    from reviewpulse.ingest.formats import FileFormat
    from reviewpulse.ingest.readers import read_columns

    text_field = next((n.column for n in named if n.option == "--text-field"), None)
    id_field = next((n.column for n in named if n.option == "--id-field"), None)
    spec = FileSpec(
        format=FileFormat(file_format), text_field=text_field, id_field=id_field, delimiter=delimiter, sheet=sheet
    )
    with path.open("rb") as body:
        # A CSV's (or a sheet's) header names every column: its first row is enough.
        by_header = file_format in ("csv", "xlsx")
        columns, unusable = read_columns(body, spec, 1 if by_header else SAMPLE_ROWS)
    where = "its header" if by_header else f"its first {SAMPLE_ROWS:,} rows"
    found = [line for n in named if (line := _missing(n, columns, path.name, where))]
    if unusable is not None and not (unusable.code in ("text-column-not-found", "id-column-not-found") and found):
        detail = unusable.detail.replace("with text_field", "with --text-field").replace("options.sheet", "--sheet")
        found.insert(0, f"{path.name}: {detail} ({unusable.code})")
    return found


def _missing(named: Named, columns: list[str], filename: str, where: str) -> str | None:
    if named.column in columns:
        return None
    folded = {column.strip().lower(): column for column in reversed(columns)}
    same_but_case = folded.get(named.column.strip().lower())
    if same_but_case is not None and named.any_case:
        return None
    guess = same_but_case or next(iter(difflib.get_close_matches(named.column, columns, n=1, cutoff=0.6)), None)
    listed = ", ".join(repr(column) for column in columns[:20]) + (" …" if len(columns) > 20 else "")
    return (
        f"{named.option} {named.column!r}: {filename} has no such column in {where}"
        + (f"; did you mean {guess!r}?" if guess else "")
        + f" (it has {listed or 'no named columns'})"
    )
