"""A file declared as chat conversations, in JSON or JSON Lines."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal

from reviewpulse.ingest.file_spec import FileSpec
from reviewpulse.ingest.readers.decoding import Replayed, line_limit
from reviewpulse.ingest.readers.json_file import json_rows
from reviewpulse.ingest.readers.jsonl_file import jsonl_rows
from reviewpulse.ingest.readers.rows import ReadState, Row, Text


def conversation_file_rows(text: Text, spec: FileSpec, state: ReadState) -> Iterator[Row]:
    """A file declared as conversations: JSON Lines when its first line that is not blank holds a
    whole JSON object, else one JSON document (an array, or an object wrapping one)."""
    newlines = 0
    while (char := text.read(1)).isspace():
        newlines += char == "\n"  # kept so that JSONL line numbers stay right; other blanks are not
    head = "\n" * newlines + char
    if char == "{":
        head += text.readline(line_limit(spec))
        if _is_json(head):
            yield from jsonl_rows(Replayed(head, text), spec, state)
            return
    yield from json_rows(Replayed(head, text), spec, state)


def _is_json(line: str) -> bool:
    try:
        json.loads(line, parse_float=Decimal)
    except (ValueError, RecursionError):
        return False
    return True
