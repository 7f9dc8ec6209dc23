"""CSV: a header row names the columns; a ragged row is that row's error."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator

from reviewpulse.errors import UnusableFile
from reviewpulse.ingest.formats import FileSpec
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


def csv_rows(text: io.TextIOWrapper, spec: FileSpec, state: ReadState) -> Iterator[Row]:
    if csv.field_size_limit() < max(_CSV_FIELD_CHARS, 2 * spec.max_text_chars):
        csv.field_size_limit(max(_CSV_FIELD_CHARS, 2 * spec.max_text_chars))
    reader = csv.reader(text)
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
        # The text and id columns are looked up in the header as written (the first of repeated
        # names wins); rows are keyed by unique names so that no repeated column is lost.
        text_index = find_text_name(header, spec.text_field, single_fallback=True, where="the header")
        id_index = find_id_name(header, spec.id_field, where="the header") if spec.id_field else None
        names = unique_names(header)
        state.text_field = names[text_index]
        state.add_columns(names)
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
