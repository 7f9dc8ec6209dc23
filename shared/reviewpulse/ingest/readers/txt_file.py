"""Plain text: one review per line."""

from __future__ import annotations

import io
from collections.abc import Iterator

from reviewpulse.ingest.file_spec import FileSpec
from reviewpulse.ingest.readers.decoding import line_limit, read_lines
from reviewpulse.ingest.readers.rows import ReadState, Row, clean, error_row, text_row


def txt_rows(text: io.TextIOWrapper, spec: FileSpec, state: ReadState) -> Iterator[Row]:
    state.text_field = "text"
    state.add_columns(["text"])
    limit = line_limit(spec)
    for number, (line, length) in enumerate(read_lines(text, limit), start=1):
        if line is None:
            detail = f"text has {length} characters; the maximum is {spec.max_text_chars}"
            yield error_row(number, str(number), "text-too-long", detail, {"text": ""})
        else:
            yield text_row(number, str(number), line, {"text": clean(line)}, spec)
