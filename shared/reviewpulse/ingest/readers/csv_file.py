"""CSV: a header row names the columns; a ragged row is that row's error.

The delimiter is the task's `delimiter` option, else told from the file by one deterministic rule:
  1. Excel's `sep=X` first line names it (and is not a row), as Excel reads it;
  2. else the header line decides: of comma, semicolon, tab and pipe, the one that occurs most
     often outside double quotes; a tie goes to the first in that order, and a header with none
     of them (one column) is read with commas.
Why not csv.Sniffer: it guesses from character frequencies over whole lines, so the commas inside
review texts (`Great value, slow delivery`) outvote the semicolons between columns, and it
raises on files it cannot decide. The header is the line whose separators are meant: column names
rarely hold a delimiter, texts often do. A `sep=` line is skipped even when the option is given.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Iterable, Iterator

from reviewpulse.errors import UnusableFile
from reviewpulse.ingest.file_spec import FileSpec
from reviewpulse.ingest.readers.rows import (
    ReadState,
    Row,
    clean,
    error_row,
    find_id_name,
    find_text_name,
    parse_row_id,
    text_row,
    unique_names,
)

# csv's default limit (128 Ki chars) would make one huge field a file error; at this size a
# 10 MB field still parses and becomes a text-too-long row.
_CSV_FIELD_CHARS = 12 * 1024 * 1024


DELIMITERS = (",", ";", "\t", "|")  # in the order that breaks ties
_EXCEL_SEP_LINE = re.compile(r'^\ufeff?"?sep=([^"\r\n])"?\s*$', re.IGNORECASE)
# Blank lines read ahead to find the header line; past them, the header is taken as it comes.
_LOOKAHEAD_LINES = 20


def choose_delimiter(lines: Iterable[str], explicit: str | None) -> tuple[str, bool]:
    """The delimiter for a file starting with `lines`, and whether its first line is Excel's
    `sep=` line (not a row)."""
    lines = list(lines)
    sep_line = bool(lines) and _EXCEL_SEP_LINE.match(lines[0]) is not None
    if explicit:
        return explicit, sep_line
    if sep_line:
        return _EXCEL_SEP_LINE.match(lines[0]).group(1), True  # type: ignore[union-attr]
    header = next((line for line in lines if line.strip()), "")
    counts = _unquoted_counts(header)
    best = max(DELIMITERS, key=lambda d: (counts[d], -DELIMITERS.index(d)))
    return (best if counts[best] else ","), False


def _head(lines: Iterator[str]) -> list[str]:
    """The first lines up to the header line: never more than one line that is not blank."""
    ahead: list[str] = []
    for line in lines:
        ahead.append(line)
        if len(ahead) >= _LOOKAHEAD_LINES or (line.strip() and not (len(ahead) == 1 and _EXCEL_SEP_LINE.match(line))):
            break
    return ahead


def _unquoted_counts(line: str) -> dict[str, int]:
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    return counts


def csv_rows(text: io.TextIOWrapper, spec: FileSpec, state: ReadState) -> Iterator[Row]:
    if csv.field_size_limit() < max(_CSV_FIELD_CHARS, 2 * spec.max_text_chars):
        csv.field_size_limit(max(_CSV_FIELD_CHARS, 2 * spec.max_text_chars))
    lines = iter(text)
    ahead = _head(lines)
    delimiter, sep_line = choose_delimiter(ahead, spec.delimiter)
    state.delimiter = delimiter
    reader = csv.reader(itertools.chain(ahead[1:] if sep_line else ahead, lines), delimiter=delimiter)
    number = 0
    try:
        header = next((record for record in reader if record), None)  # blank lines before it are not rows
        # Find a data row before judging the header: a header alone is an empty file.
        blank_lines = 0
        while (first := next(reader, None)) == []:
            blank_lines += 1
        if header is None or first is None:
            return
        header = [clean(name) for name in header]
        names = unique_names(header)
        state.add_columns(names)  # known even when the text or id column is missing (read_columns)
        # The text and id columns are looked up in the header as written (the first of repeated
        # names wins); rows are keyed by unique names so that no repeated column is lost.
        text_index = find_text_name(header, spec.text_field, single_fallback=True, where="the header")
        id_index = find_id_name(header, spec.id_field, where="the header") if spec.id_field else None
        state.text_field = names[text_index]
        for record in itertools.chain([first], reader):
            # A blank line is an empty row, unless only blank lines follow it (trailing newlines).
            if not record:
                blank_lines += 1
                continue
            for _ in range(blank_lines):
                number += 1
                yield text_row(number, str(number), "", dict.fromkeys(names, ""), spec)
            blank_lines = 0
            number += 1
            values = [clean(value) for value in record]
            columns = dict(itertools.zip_longest(names, values[: len(names)], fillvalue=""))
            id_value = values[id_index] if id_index is not None and id_index < len(values) else None
            row_id, id_error = parse_row_id(number, id_value)
            if len(record) != len(header):
                detail = f"row has {len(record)} fields; the header has {len(header)}"
                yield error_row(number, row_id, "invalid-row", detail, columns)
            elif id_error is not None:
                yield Row(number, row_id, None, id_error, columns)
            else:
                yield text_row(number, row_id, record[text_index], columns, spec)
    except csv.Error as exc:  # csv's messages describe the problem, never the content
        raise UnusableFile("malformed-file", f"the CSV cannot be read after row {number}: {exc}") from None
