"""JSON Lines: one JSON value per line; a line that cannot be read is that row's error, and a
file whose first line holds a conversation is read as conversations."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from reviewpulse.ingest.file_spec import FileSpec
from reviewpulse.ingest.formats import FileFormat
from reviewpulse.ingest.readers.conversations import Conversations, is_conversation, unwrapped
from reviewpulse.ingest.readers.decoding import line_limit, read_lines
from reviewpulse.ingest.readers.json_values import item_row
from reviewpulse.ingest.readers.rows import BLANK_LINE, SURROGATES, ReadState, Row, RowError, Text, error_row


def jsonl_rows(text: Text, spec: FileSpec, state: ReadState) -> Iterator[Row]:
    lines = _jsonl_items(text, spec)
    if spec.format == FileFormat.CONVERSATIONS:
        yield from Conversations(spec, state, SURROGATES).rows_of_lines(lines)
        return
    # The first line that is not blank decides whether the file holds conversations (alone or in
    # a wrapper object); the blank lines before it are only counted, then replayed.
    blank = 0
    head = next(lines, None)
    while head is not None and head[2] is BLANK_LINE:
        blank += 1
        head = next(lines, None)
    replayed = itertools.chain(
        ((number, None, BLANK_LINE) for number in range(1, blank + 1)), [head] if head else [], lines
    )
    if head is not None and head[2] is None and is_conversation(unwrapped(head[1])[0]):
        yield from Conversations(spec, state, SURROGATES).rows_of_lines(replayed)
        return
    for number, item, error in replayed:
        if error is not None:
            yield error_row(number, str(number), error.code, error.detail, {})
        else:
            yield item_row(number, item, spec, state, SURROGATES)


def _jsonl_items(text: Text, spec: FileSpec) -> Iterator[tuple[int, Any, RowError | None]]:
    """(line number, its JSON value, None) per line, or (line number, None, why it is unusable)."""
    limit = line_limit(spec)
    for number, (line, length) in enumerate(read_lines(text, limit), start=1):
        if line is None:
            detail = f"line has {length} characters; lines longer than {limit} are not read"
            yield number, None, RowError("text-too-long", detail)
            continue
        if not line.strip():
            yield number, None, BLANK_LINE
            continue
        try:
            item = json.loads(line, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            error = RowError("invalid-row", f"line is not valid JSON: {exc.msg} at column {exc.colno}")
        except RecursionError:
            error = RowError("invalid-row", "line is nested too deeply")
        except ValueError:  # an integer past sys.get_int_max_str_digits(); the message quotes none of it
            error = RowError("invalid-row", "line holds a number with too many digits")
        else:
            yield number, item, None
            continue
        yield number, None, error
