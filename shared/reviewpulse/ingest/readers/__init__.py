"""Streaming readers: turn an uploaded file's body into Rows without holding the file in memory.

`open_rows` reads the first 8 KiB to pick the encoding and reject binary or empty files, then
decodes the rest incrementally (decoding). Whole-file problems raise `UnusableFile`; a row that
cannot be used becomes a Row with an `error`, so no row is ever dropped silently.

One module per format (csv_file, json_file, jsonl_file, txt_file, xlsx_file, conversations_file); what they
share is in rows (the Row and how one is built), json_values and conversations (chat
conversations become one Row per message, from JSON, JSONL or a declared conversations file).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator

from reviewpulse.errors import UnusableFile
from reviewpulse.ingest.file_spec import FileSpec
from reviewpulse.ingest.formats import FileFormat, format_names
from reviewpulse.ingest.readers.conversations import CONVERSATION_COLUMNS, MAX_CONVERSATION_ID_CHARS
from reviewpulse.ingest.readers.conversations_file import conversation_file_rows
from reviewpulse.ingest.readers.csv_file import csv_rows
from reviewpulse.ingest.readers.decoding import SNIFF_BYTES, Body, encoding_name, open_text
from reviewpulse.ingest.readers.json_file import json_rows
from reviewpulse.ingest.readers.jsonl_file import jsonl_rows
from reviewpulse.ingest.readers.rows import (
    MAX_ID_CHARS,
    TEXT_COLUMN_CANDIDATES,
    ReadState,
    Row,
    RowError,
    RowStream,
)
from reviewpulse.ingest.readers.txt_file import txt_rows
from reviewpulse.ingest.readers.xlsx_file import xlsx_rows

__all__ = [
    "CONVERSATION_COLUMNS",
    "MAX_CONVERSATION_ID_CHARS",
    "MAX_ID_CHARS",
    "SNIFF_BYTES",
    "TEXT_COLUMN_CANDIDATES",
    "Body",
    "Row",
    "RowError",
    "RowStream",
    "open_rows",
    "read_columns",
]

_READERS = {
    FileFormat.CSV: csv_rows,
    FileFormat.JSON: json_rows,
    FileFormat.JSONL: jsonl_rows,
    FileFormat.TXT: txt_rows,
    FileFormat.CONVERSATIONS: conversation_file_rows,
}
# Workbooks are not text: their reader takes the body itself (xlsx_file).
_BINARY_READERS = {FileFormat.XLSX: xlsx_rows}


def open_rows(body: Body, spec: FileSpec) -> RowStream:
    """Start streaming `body` as `spec.format`.

    Raises UnusableFile for whole-file problems found up to the first row (binary, empty, no
    text column, no id_field column, not a JSON array); later ones (broken JSON, a CSV field past the limit) are
    raised during iteration.
    """
    try:
        file_format = FileFormat(spec.format)
    except ValueError:
        detail = f"format {spec.format!r} is not one of {format_names()}"
        raise UnusableFile("unsupported-format", detail) from None
    if file_format in _BINARY_READERS:
        state = ReadState(text_field=spec.text_field or "text")
        rows = _BINARY_READERS[file_format](body, spec, state)
    else:
        text = open_text(body, spec)
        state = ReadState(text_field=spec.text_field or "text", encoding=encoding_name(text.encoding))
        rows = _naming_the_encoding(_READERS[file_format](text, spec, state), state.encoding)
    first = next(rows, None)
    if first is None:
        raise UnusableFile("empty-file", "the file has no data rows")
    return RowStream(itertools.chain([first], rows), state)


def _naming_the_encoding(rows: Iterator[Row], encoding: str) -> Iterator[Row]:
    """invalid-encoding rows say which encoding the file was read in and how to avoid them."""
    detail = (
        f"text contains bytes that are not valid {encoding}, the encoding the file was read in; "
        'save the file as UTF-8 (in Excel: Save As, "CSV UTF-8 (Comma delimited)")'
    )
    for row in rows:
        if row.error is not None and row.error.code == "invalid-encoding":
            row = dataclasses.replace(row, error=RowError("invalid-encoding", detail))
        yield row


def read_columns(body: Body, spec: FileSpec, rows: int) -> tuple[list[str], UnusableFile | None]:
    """The columns a file's first `rows` rows name (a CSV's header), read as the split function
    reads them, and the whole-file problem met on the way, if any: what a client can check
    before it uploads the file (the columns are those found up to the problem)."""
    state = ReadState(text_field=spec.text_field or "text")
    file_format = FileFormat(spec.format)
    try:
        if file_format in _BINARY_READERS:
            reader = _BINARY_READERS[file_format](body, spec, state)
        else:
            reader = _READERS[file_format](open_text(body, spec), spec, state)
        try:
            for _ in itertools.islice(reader, rows):
                pass
        finally:
            reader.close()  # an .xlsx reader holds a temporary copy of the file until closed
    except UnusableFile as exc:
        return list(state.columns), exc
    return list(state.columns), None
