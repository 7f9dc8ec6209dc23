"""JSON: one document, an array of objects or strings (or of conversations, also wrapped in an
object under "conversations" or "data"), streamed item by item with ijson."""

from __future__ import annotations

import itertools
import re
import sys
from collections.abc import Iterator
from typing import Any

import ijson

from reviewpulse.errors import UnusableFile
from reviewpulse.ingest.file_spec import FileSpec
from reviewpulse.ingest.formats import FileFormat
from reviewpulse.ingest.readers.conversations import WRAPPER_KEYS, Conversations, is_conversation
from reviewpulse.ingest.readers.decoding import BUFFER_BYTES
from reviewpulse.ingest.readers.json_values import MAX_NESTING, TOO_DEEP, item_row
from reviewpulse.ingest.readers.rows import JSON_INVALID, SURROGATES, ReadState, Row, Text

# ijson needs valid UTF-8, so undecodable bytes reach it as this noncharacter instead; a genuine
# U+FDD0 in a JSON file is therefore reported as invalid-encoding too.
_JSON_INVALID_MARK = "\ufdd0"


class _Utf8Source:
    """Feeds ijson valid UTF-8 from the decoded text, so BOMs and UTF-16 reach it the same way."""

    def __init__(self, text: Text) -> None:
        self._text = text
        self._numbers = _LongNumberGuard()

    def read(self, size: int = -1) -> bytes:
        if size == 0:  # ijson probes read(0) to check for bytes
            return b""
        chunk = self._text.read(size if size > 0 else BUFFER_BYTES)
        self._numbers.check(chunk)
        return SURROGATES.sub(_JSON_INVALID_MARK, chunk).encode("utf-8")


class _LongNumberGuard:
    """Finds an integer longer than int() accepts (sys.get_int_max_str_digits()) before ijson does.

    ijson's C backend crashes the whole process (a segmentation fault, not an exception) on such a
    number, so no except clause could turn it into an error. Digits inside strings are text, not
    numbers: the guard follows string boundaries, with a fast path (C-speed regex and count) for
    the usual chunk that holds no run of digits that long.
    """

    def __init__(self) -> None:
        self._limit = sys.get_int_max_str_digits()
        self._in_string = False
        self._escaped = False  # the last chunk ended inside a string on a lone backslash
        self._digits = 0  # digits at the end of the text so far, outside strings

    def check(self, chunk: str) -> None:
        if not self._limit or not chunk:
            return
        if self._digits + len(chunk) > self._limit and _digit_run_at_least(chunk, self._limit - self._digits):
            self._walk(chunk)
            return
        body = chunk[1:] if self._escaped else chunk
        unescaped = _ESCAPE.sub("", body)
        self._in_string ^= unescaped.count('"') % 2 == 1
        self._escaped = self._in_string and unescaped.endswith("\\")
        trailing = len(chunk) - len(chunk.rstrip(_DIGITS))
        self._digits = (self._digits + trailing if trailing == len(chunk) else trailing) if not self._in_string else 0

    def _walk(self, chunk: str) -> None:
        """The slow path, token by token, for a chunk with a long run of digits somewhere."""
        position = 0
        if self._escaped:
            position, self._escaped = 1, False
        for token in _TOKEN.finditer(chunk, position):
            text = token.group()
            if text == '"':
                self._in_string = not self._in_string
                self._digits = 0
            elif text.startswith("\\"):
                self._escaped = len(text) == 1 and self._in_string
                self._digits = 0
            elif not self._in_string:
                digits = (self._digits if token.start() == position else 0) + len(text)
                if digits > self._limit:
                    detail = f"the file holds a number with more than {self._limit} digits"
                    raise UnusableFile("malformed-file", detail)
                self._digits = digits if token.end() == len(chunk) else 0
            position = token.end()
        if position != len(chunk):
            self._digits = 0


_DIGITS = "0123456789"
_ESCAPE = re.compile(r"\\.", re.DOTALL)
_TOKEN = re.compile(r'"|\\.?|[0-9]+', re.DOTALL)


def _digit_run_at_least(chunk: str, length: int) -> bool:
    return re.search(f"[0-9]{{{max(length, 1)},}}", chunk) is not None


_NOT_AN_ARRAY = "a JSON file must be an array of objects or strings"
_NOT_CONVERSATIONS = (
    "a conversations file must be JSON Lines, an array of conversations, "
    "or an object holding that array under 'conversations' or 'data'"
)
_END = object()  # what next() returns at the end, as null is a JSON item


def json_rows(text: Text, spec: FileSpec, state: ReadState) -> Iterator[Row]:
    conversations_only = spec.format == FileFormat.CONVERSATIONS
    events = ijson.basic_parse(_Utf8Source(text))
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


def _json_items(events: Iterator[tuple[str, Any]], conversations_only: bool) -> Iterator[Any]:
    """The items of the top-level array, or of the array a top-level object holds under
    "conversations" or "data" when its first item is a conversation (any item, for a file
    declared as conversations). The object's other keys are skipped without being built."""
    unusable = UnusableFile("malformed-file", _NOT_CONVERSATIONS if conversations_only else _NOT_AN_ARRAY)
    first = next(events, None)
    if first is not None and first[0] == "start_array":
        yield from _array_items(events)
        return
    if first is None or first[0] != "start_map":
        raise unusable
    for event, key in events:
        if event != "map_key":  # the end of the top-level object
            break
        start, _ = next(events, (None, None))
        if str(key).strip().lower() in WRAPPER_KEYS and start == "start_array":
            items = _array_items(events)
            head = next(items, _END)
            if head is _END:
                return
            if not (conversations_only or is_conversation(head)):
                raise unusable
            yield head
            yield from items
            return
        if start in _STARTS:
            _skip(events, depth=1)
    raise unusable


# Built by hand rather than with ijson.items: that computes a prefix string for every event, as
# long as the nesting is deep, so a deeply nested item costs time quadratic in its depth; and it
# builds an item however deep it goes.
_STARTS = ("start_map", "start_array")
_ENDS = ("end_map", "end_array")


def _array_items(events: Iterator[tuple[str, Any]]) -> Iterator[Any]:
    """The items of the array whose start_array was just read; a value nested more than
    MAX_NESTING levels into an item is TOO_DEEP in it, and its content skipped."""
    for event, value in events:
        if event == "end_array":
            return
        yield _build(event, value, events)


def _build(event: str, value: Any, events: Iterator[tuple[str, Any]]) -> Any:
    if event not in _STARTS:
        return value
    containers: list[Any] = [{} if event == "start_map" else []]
    keys: list[str | None] = [None]
    for event, value in events:
        if event == "map_key":
            keys[-1] = value
        elif event in _ENDS:
            built = containers.pop()
            keys.pop()
            if not containers:
                return built
        else:
            too_deep = event in _STARTS and len(containers) >= MAX_NESTING
            if too_deep:
                _skip(events, depth=1)
                child: Any = TOO_DEEP
            else:
                child = ({} if event == "start_map" else []) if event in _STARTS else value
            parent = containers[-1]
            if isinstance(parent, list):
                parent.append(child)
            else:
                parent[keys[-1]] = child
            if event in _STARTS and not too_deep:
                containers.append(child)
                keys.append(None)
    return containers[0]  # not reached: ijson raises on a document that ends early


def _skip(events: Iterator[tuple[str, Any]], depth: int) -> None:
    """Read past the end of the `depth` containers that are open, building nothing."""
    for event, _ in events:
        if event in _STARTS:
            depth += 1
        elif event in _ENDS:
            depth -= 1
            if depth == 0:
                return
