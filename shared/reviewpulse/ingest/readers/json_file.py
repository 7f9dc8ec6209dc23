"""JSON: one document, an array of objects or strings (or of conversations, also wrapped in an
object under "conversations" or "data"), streamed item by item with ijson."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import ijson

from reviewpulse.errors import UnusableFile
from reviewpulse.ingest.formats import FileFormat, FileSpec
from reviewpulse.ingest.readers.conversations import WRAPPER_KEYS, Conversations, is_conversation
from reviewpulse.ingest.readers.decoding import BUFFER_BYTES
from reviewpulse.ingest.readers.json_values import item_row
from reviewpulse.ingest.readers.rows import JSON_INVALID, SURROGATES, ReadState, Row, Text

# ijson needs valid UTF-8, so undecodable bytes reach it as this noncharacter instead; a genuine
# U+FDD0 in a JSON file is therefore reported as invalid-encoding too.
_JSON_INVALID_MARK = "\ufdd0"


class _Utf8Source:
    """Feeds ijson valid UTF-8 from the decoded text, so BOMs and UTF-16 reach it the same way."""

    def __init__(self, text: Text) -> None:
        self._text = text

    def read(self, size: int = -1) -> bytes:
        if size == 0:  # ijson probes read(0) to check for bytes
            return b""
        chunk = self._text.read(size if size > 0 else BUFFER_BYTES)
        return SURROGATES.sub(_JSON_INVALID_MARK, chunk).encode("utf-8")


_NOT_AN_ARRAY = "a JSON file must be an array of objects or strings"
_NOT_CONVERSATIONS = (
    "a conversations file must be JSON Lines, an array of conversations, "
    "or an object holding that array under 'conversations' or 'data'"
)
_END = object()  # what next() returns at the end, as null is a JSON item


def json_rows(text: Text, spec: FileSpec, state: ReadState) -> Iterator[Row]:
    conversations_only = spec.format == FileFormat.CONVERSATIONS
    events = ijson.parse(_Utf8Source(text))
    number = 0
    try:
        items = _json_items(events, conversations_only)
        head = next(items, _END)
        if head is _END:
            return
        items = itertools.chain([head], items)
        # The first item decides, so that finalize, reading the file again, reads it the same way.
        if conversations_only or is_conversation(head):
            rows = Conversations(spec, state, JSON_INVALID).rows(items)
        else:
            rows = (item_row(n, item, spec, state, JSON_INVALID) for n, item in enumerate(items, start=1))
        for row in rows:
            number = row.number
            yield row
    # UnicodeDecodeError: yajl rejects escaped lone surrogates such as "\ud800".
    except (ijson.JSONError, UnicodeDecodeError):
        # `from None`: ijson's messages quote the file's content.
        where = f"after row {number}" if number else "before the first row"
        raise UnusableFile("malformed-file", f"the file is not valid JSON {where}") from None


def _json_items(events: Iterator[tuple[str, str, Any]], conversations_only: bool) -> Iterator[Any]:
    """The items of the top-level array, or of the array a top-level object holds under
    "conversations" or "data" when its first item is a conversation (any item, for a file
    declared as conversations). The object's other keys are skipped without being built."""
    unusable = UnusableFile("malformed-file", _NOT_CONVERSATIONS if conversations_only else _NOT_AN_ARRAY)
    first = next(events, None)
    if first is not None and first[1] == "start_array":
        yield from ijson.items(itertools.chain([first], events), "item")
        return
    if first is None or first[1] != "start_map":
        raise unusable
    for prefix, event, value in events:
        if prefix or event != "map_key" or str(value).strip().lower() not in WRAPPER_KEYS:
            continue
        start = next(events, None)
        if start is None or start[1] != "start_array":
            continue
        items = ijson.items(itertools.chain([start], events), f"{value}.item")
        head = next(items, _END)
        if head is _END:
            return
        if not (conversations_only or is_conversation(head)):
            raise unusable
        yield head
        yield from items
        return
    raise unusable


# A blank JSONL line: an empty row, or for conversations an empty conversation.
