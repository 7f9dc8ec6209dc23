"""Streaming readers: turn an uploaded file's body into Rows without holding the file in memory.

`open_rows` reads the first 8 KiB to pick the encoding and reject binary or empty files, then
decodes the rest incrementally. Whole-file problems raise `UnusableFile`; a row that cannot be
used becomes a Row with an `error`, so no row is ever dropped silently.

Chat conversations (a JSON array of conversation objects, such an array wrapped in an object, or
JSON Lines of them) become one Row per message; see `_Conversations`.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Protocol

import ijson

from reviewpulse.errors import UnusableFile
from reviewpulse.ingest.formats import FileFormat, FileSpec

# Header names / object keys taken as the text column, compared after strip() and lower().
TEXT_COLUMN_CANDIDATES = (
    "text",
    "review",
    "review_text",
    "reviewtext",
    "review_body",
    "content",
    "body",
    "comment",
    "comments",
    "message",
    "feedback",
    "sentence",
    "description",
)

SNIFF_BYTES = 8192
# Longer ids would bloat every queue message and results line, and one megabyte id would make a
# chunk that can never fit an SQS message; such a row is invalid-row and keeps its row number.
MAX_ID_CHARS = 256
# Above this share of undecodable bytes in the first 8 KiB, the file is binary, not mis-encoded text.
_MAX_INVALID_SHARE = 0.3
# csv's default limit (128 Ki chars) would make one huge field a file error; at this size a
# 10 MB field still parses and becomes a text-too-long row.
_CSV_FIELD_CHARS = 12 * 1024 * 1024
# TXT/JSONL lines longer than this are counted, not kept, so one newline-free file stays flat.
_LINE_CHARS = 4 * 1024 * 1024
_BUFFER_BYTES = 64 * 1024

# Undecodable bytes turn into lone surrogates (surrogateescape for UTF-8, _UTF16_ESCAPE below);
# valid decoded text never contains them, so finding one marks the row invalid-encoding.
_SURROGATES = re.compile("[\ud800-\udfff]")
# ijson needs valid UTF-8, so undecodable bytes reach it as this noncharacter instead; a genuine
# U+FDD0 in a JSON file is therefore reported as invalid-encoding too.
_JSON_INVALID_MARK = "\ufdd0"
_JSON_INVALID = re.compile("[\ud800-\udfff\ufdd0]")


def _escape_undecodable(exc: UnicodeError) -> tuple[str, int]:
    # surrogateescape refuses bytes below 0x80, which invalid UTF-16 (e.g. b"\x00\xd8") contains.
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return "".join(chr(0xDC00 + b) for b in exc.object[exc.start : exc.end]), exc.end


_UTF16_ESCAPE = "reviewpulse-escape"
codecs.register_error(_UTF16_ESCAPE, _escape_undecodable)


class Body(Protocol):
    """What the readers need from an object body: botocore's StreamingBody or any binary file."""

    def read(self, amt: int, /) -> bytes: ...


class _Text(Protocol):
    """What the readers need from decoded text: the TextIOWrapper, or _Replayed in front of it."""

    def read(self, size: int, /) -> str: ...

    def readline(self, size: int, /) -> str: ...


@dataclass(frozen=True)
class RowError:
    """Why one row cannot be analysed. `detail` never quotes the row's text."""

    code: str
    detail: str


@dataclass(frozen=True)
class Row:
    """One input row: its 1-based data row number, id, text (None on error) and its own columns."""

    number: int
    id: str
    text: str | None
    error: RowError | None
    columns: dict[str, str]
    # Chat messages only: {"conversation_id", "turn", "speaker", "timestamp"} (see MessageRef).
    conversation: dict[str, Any] | None = None


@dataclass
class _State:
    """What a reader learns about the input as it goes; RowStream exposes it."""

    text_field: str
    columns: list[str] = field(default_factory=list)
    object_key: str | None = None  # JSON/JSONL: text key fixed by the first object
    id_key: str | None = None  # JSON/JSONL: id key fixed by the first object, when id_field is given
    _seen: set[str] = field(default_factory=set)

    def add_columns(self, names: Iterable[str]) -> None:
        for name in names:
            if name not in self._seen:
                self._seen.add(name)
                self.columns.append(name)


class RowStream:
    """A single-pass iterator of Rows, plus what is known about the input's columns."""

    def __init__(self, rows: Iterator[Row], state: _State) -> None:
        self._rows = rows
        self._state = state

    @property
    def columns(self) -> list[str]:
        """Input column names in first-seen order; for JSON/JSONL complete once iteration ends.

        A CSV header's repeated names are made unique ("tag", "tag_2", ...), as in Row.columns.
        """
        return list(self._state.columns)

    @property
    def text_field(self) -> str:
        """The column or key the text is read from ("text" for strings and TXT)."""
        return self._state.text_field

    def __iter__(self) -> RowStream:
        return self

    def __next__(self) -> Row:
        return next(self._rows)


def open_rows(body: Body, spec: FileSpec) -> RowStream:
    """Start streaming `body` as `spec.format`.

    Raises UnusableFile for whole-file problems found up to the first row (binary, empty, no
    text column, no id_field column, not a JSON array); later ones (broken JSON, a CSV field past the limit) are
    raised during iteration.
    """
    try:
        read_rows = _READERS[FileFormat(spec.format)]
    except ValueError:
        detail = f"format {spec.format!r} is not one of csv, json, jsonl, txt, conversations"
        raise UnusableFile("unsupported-format", detail) from None
    prefix, encoding, errors = _sniff(body)
    text = io.TextIOWrapper(
        io.BufferedReader(_BodyReader(body, prefix), buffer_size=_BUFFER_BYTES),
        encoding=encoding,
        errors=errors,
        # CSV needs newline="" for quoted newlines; TXT/JSONL split on "\n" only, and JSON
        # needs no translation at all. Either way no "\r" or U+0085 ends a line by itself.
        newline="" if spec.format == FileFormat.CSV else "\n",
    )
    state = _State(text_field=spec.text_field or "text")
    rows = read_rows(text, spec, state)
    first = next(rows, None)
    if first is None:
        raise UnusableFile("empty-file", "the file has no data rows")
    return RowStream(itertools.chain([first], rows), state)


class _BodyReader(io.RawIOBase):
    """A raw stream over body.read(n) (StreamingBody has no readinto), replaying the sniffed prefix."""

    def __init__(self, body: Body, prefix: bytes) -> None:
        super().__init__()
        self._body = body
        self._pending = prefix

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if not self._pending:
            self._pending = self._body.read(len(view)) or b""
        n = min(len(view), len(self._pending))
        view[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


def _read_prefix(body: Body) -> bytes:
    parts: list[bytes] = []
    size = 0
    while size < SNIFF_BYTES:
        part = body.read(SNIFF_BYTES - size)
        if not part:
            break
        parts.append(part)
        size += len(part)
    return b"".join(parts)


def _sniff(body: Body) -> tuple[bytes, str, str]:
    """Read the first bytes: (prefix to replay, encoding, decode error handler); reject bad files."""
    prefix = _read_prefix(body)
    at_end = len(prefix) < SNIFF_BYTES
    if prefix.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # UTF-16 text is full of NUL bytes, so only the emptiness check applies.
        little_endian = prefix.startswith(codecs.BOM_UTF16_LE)
        sample = prefix[2:].decode("utf-16-le" if little_endian else "utf-16-be", "ignore")
        encoding, errors = "utf-16", _UTF16_ESCAPE
    else:
        utf8_bom = prefix.startswith(codecs.BOM_UTF8)
        content = prefix[len(codecs.BOM_UTF8) :] if utf8_bom else prefix
        if b"\x00" in content:
            raise UnusableFile("not-text", "the file contains NUL bytes; it looks binary, not text")
        # Incremental, so a character cut at the 8 KiB boundary is not counted as invalid.
        decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
        sample = decoder.decode(content, final=at_end)
        invalid = len(_SURROGATES.findall(sample))
        if content and invalid / len(content) > _MAX_INVALID_SHARE:
            detail = "much of the file's start is not valid UTF-8; it looks binary, not text"
            raise UnusableFile("not-text", detail)
        encoding, errors = ("utf-8-sig" if utf8_bom else "utf-8"), "surrogateescape"
    if at_end and not sample.strip():
        raise UnusableFile("empty-file", "the file is empty")
    return prefix, encoding, errors


# ---- shared row building -------------------------------------------------------------------


def _clean(value: str, invalid: re.Pattern[str] = _SURROGATES) -> str:
    """Replace undecodable characters so columns and ids can be encoded downstream."""
    return invalid.sub("\ufffd", value) if invalid.search(value) else value


def _row_id(number: int, value: str | None) -> tuple[str, RowError | None]:
    """The row's id (its number when the value is missing or blank), or its number and an error."""
    value = value.strip() if value else ""
    if len(value) > MAX_ID_CHARS:
        detail = f"the id has {len(value)} characters; the maximum is {MAX_ID_CHARS}"
        return str(number), RowError("invalid-row", detail)
    return value or str(number), None


def _text_row(
    number: int,
    row_id: str,
    text: str,
    columns: dict[str, str],
    spec: FileSpec,
    invalid: re.Pattern[str] = _SURROGATES,
) -> Row:
    """A usable row, or the row's error if its text is empty, badly encoded or too long."""
    stripped = text.strip()
    if not stripped:
        error = RowError("empty-text", "text is empty")
    elif invalid.search(stripped):
        error = RowError("invalid-encoding", "text contains bytes that are not valid in the file's encoding")
    elif len(stripped) > spec.max_text_chars:
        detail = f"text has {len(stripped)} characters; the maximum is {spec.max_text_chars}"
        error = RowError("text-too-long", detail)
    else:
        return Row(number, row_id, stripped, None, columns)
    return Row(number, row_id, None, error, columns)


def _error_row(number: int, row_id: str, code: str, detail: str, columns: dict[str, str]) -> Row:
    return Row(number, row_id, None, RowError(code, detail), columns)


def _find_name(names: list[str], wanted: str) -> int | None:
    """Index of `wanted` in names: exact match first, then ignoring case and surrounding spaces."""
    if wanted in names:
        return names.index(wanted)
    folded = wanted.strip().lower()
    return next((i for i, name in enumerate(names) if name.strip().lower() == folded), None)


def _text_name(names: list[str], text_field: str | None, *, single_fallback: bool, where: str) -> int:
    """Index of the text column/key: the given one, else the first candidate name."""
    if text_field is not None:
        index = _find_name(names, text_field)
        if index is None:
            detail = f"{where} has no {text_field!r}; it has: {_list(names)}"
            raise UnusableFile("text-column-not-found", detail)
        return index
    for i, name in enumerate(names):
        if name.strip().lower() in TEXT_COLUMN_CANDIDATES:
            return i
    if single_fallback and len(names) == 1:
        return 0
    raise UnusableFile(
        "text-column-not-found",
        f"no text column could be detected, so name one with text_field; {where} has: {_list(names)}",
    )


def _id_name(names: list[str], id_field: str, *, where: str) -> int:
    """Index of the id column/key, matched like text_field; a missing one makes the file unusable."""
    index = _find_name(names, id_field)
    if index is None:
        raise UnusableFile("id-column-not-found", f"{where} has no {id_field!r}; it has: {_list(names)}")
    return index


def _unique_names(names: list[str]) -> list[str]:
    """Header names made unique: a repeated name gets the first free suffix, "tag", "tag_2", "tag_3"."""
    taken = set(names)
    seen: set[str] = set()
    next_suffix: dict[str, int] = {}
    unique: list[str] = []
    for name in names:
        if name in seen:
            suffix = next_suffix.get(name, 2)
            while f"{name}_{suffix}" in taken:
                suffix += 1
            next_suffix[name] = suffix + 1
            name = f"{name}_{suffix}"
            taken.add(name)
        seen.add(name)
        unique.append(name)
    return unique


def _list(names: list[str], limit: int = 50) -> str:
    shown = ", ".join(repr(_clean(name)) for name in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "") if names else "(nothing)"


# ---- CSV -----------------------------------------------------------------------------------


def _csv_rows(text: io.TextIOWrapper, spec: FileSpec, state: _State) -> Iterator[Row]:
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
        header = [_clean(name) for name in header]
        # The text and id columns are looked up in the header as written (the first of repeated
        # names wins); rows are keyed by unique names so that no repeated column is lost.
        text_index = _text_name(header, spec.text_field, single_fallback=True, where="the header")
        id_index = _id_name(header, spec.id_field, where="the header") if spec.id_field else None
        names = _unique_names(header)
        state.text_field = names[text_index]
        state.add_columns(names)
        for record in itertools.chain([first], reader):
            # A blank line is an empty row, unless only blank lines follow it (trailing newlines).
            if not record:
                blank_lines += 1
                continue
            for _ in range(blank_lines):
                number += 1
                yield _text_row(number, str(number), "", dict.fromkeys(names, ""), spec)
            blank_lines = 0
            number += 1
            values = [_clean(value) for value in record]
            columns = dict(itertools.zip_longest(names, values[: len(names)], fillvalue=""))
            id_value = values[id_index] if id_index is not None and id_index < len(values) else None
            row_id, id_error = _row_id(number, id_value)
            if len(record) != len(header):
                detail = f"row has {len(record)} fields; the header has {len(header)}"
                yield _error_row(number, row_id, "invalid-row", detail, columns)
            elif id_error is not None:
                yield Row(number, row_id, None, id_error, columns)
            else:
                yield _text_row(number, row_id, record[text_index], columns, spec)
    except csv.Error as exc:  # csv's messages describe the problem, never the content
        raise UnusableFile("malformed-file", f"the CSV cannot be read after row {number}: {exc}") from None


# ---- JSON and JSONL ------------------------------------------------------------------------


class _Utf8Source:
    """Feeds ijson valid UTF-8 from the decoded text, so BOMs and UTF-16 reach it the same way."""

    def __init__(self, text: _Text) -> None:
        self._text = text

    def read(self, size: int = -1) -> bytes:
        if size == 0:  # ijson probes read(0) to check for bytes
            return b""
        chunk = self._text.read(size if size > 0 else _BUFFER_BYTES)
        return _SURROGATES.sub(_JSON_INVALID_MARK, chunk).encode("utf-8")


_NOT_AN_ARRAY = "a JSON file must be an array of objects or strings"
_NOT_CONVERSATIONS = (
    "a conversations file must be JSON Lines, an array of conversations, "
    "or an object holding that array under 'conversations' or 'data'"
)
_END = object()  # what next() returns at the end, as null is a JSON item


def _json_rows(text: _Text, spec: FileSpec, state: _State) -> Iterator[Row]:
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
        if conversations_only or _is_conversation(head):
            rows = _Conversations(spec, state, _JSON_INVALID).rows(items)
        else:
            rows = (_item_row(n, item, spec, state, _JSON_INVALID) for n, item in enumerate(items, start=1))
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
        if not (conversations_only or _is_conversation(head)):
            raise unusable
        yield head
        yield from items
        return
    raise unusable


# A blank JSONL line: an empty row, or for conversations an empty conversation.
_BLANK_LINE = RowError("empty-text", "text is empty")


def _jsonl_rows(text: _Text, spec: FileSpec, state: _State) -> Iterator[Row]:
    lines = _jsonl_items(text, spec)
    if spec.format == FileFormat.CONVERSATIONS:
        yield from _Conversations(spec, state, _SURROGATES).rows_of_lines(lines)
        return
    # The first line that is not blank decides whether the file holds conversations (alone or in
    # a wrapper object); the blank lines before it are only counted, then replayed.
    blank = 0
    head = next(lines, None)
    while head is not None and head[2] is _BLANK_LINE:
        blank += 1
        head = next(lines, None)
    replayed = itertools.chain(
        ((number, None, _BLANK_LINE) for number in range(1, blank + 1)), [head] if head else [], lines
    )
    if head is not None and head[2] is None and _is_conversation(_unwrapped(head[1])[0]):
        yield from _Conversations(spec, state, _SURROGATES).rows_of_lines(replayed)
        return
    for number, item, error in replayed:
        if error is not None:
            yield _error_row(number, str(number), error.code, error.detail, {})
        else:
            yield _item_row(number, item, spec, state, _SURROGATES)


def _jsonl_items(text: _Text, spec: FileSpec) -> Iterator[tuple[int, Any, RowError | None]]:
    """(line number, its JSON value, None) per line, or (line number, None, why it is unusable)."""
    limit = max(_LINE_CHARS, 2 * spec.max_text_chars)
    for number, (line, length) in enumerate(_read_lines(text, limit), start=1):
        if line is None:
            detail = f"line has {length} characters; lines longer than {limit} are not read"
            yield number, None, RowError("text-too-long", detail)
            continue
        if not line.strip():
            yield number, None, _BLANK_LINE
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


def _item_row(number: int, item: object, spec: FileSpec, state: _State, invalid: re.Pattern[str]) -> Row:
    """A Row from one JSON array item or JSONL line: a string or an object."""
    if isinstance(item, str):
        state.add_columns(["text"])
        return _text_row(number, str(number), item, {"text": _clean(item, invalid)}, spec, invalid)
    if not isinstance(item, dict):
        detail = f"item is {_json_type(item)}; expected an object or a string"
        return _error_row(number, str(number), "invalid-row", detail, {})
    columns = {_clean(str(key), invalid): _clean(_render(value), invalid) for key, value in item.items()}
    state.add_columns(columns)
    if state.object_key is None:
        keys = list(item)
        index = _text_name(keys, spec.text_field, single_fallback=False, where="the first object")
        state.object_key = keys[index]
        state.text_field = _clean(state.object_key, invalid)
        # Like the text key, the id key is fixed by the first object: a first object without it
        # makes the file unusable (a misspelt id_field), while a later object without it (or with
        # null) falls back to its row number, as objects need not all share the same keys.
        if spec.id_field:
            state.id_key = keys[_id_name(keys, spec.id_field, where="the first object")]
    key = state.object_key
    id_value = item.get(state.id_key) if state.id_key is not None else None
    if isinstance(id_value, (dict, list)):
        detail = f"the id is {_json_type(id_value)}; ids must be strings or numbers"
        return _error_row(number, str(number), "invalid-row", detail, columns)
    row_id, id_error = _row_id(number, None if id_value is None else _clean(_render(id_value), invalid))
    if id_error is not None:
        return Row(number, row_id, None, id_error, columns)
    value = item.get(key)
    if not isinstance(value, str):
        shown = _clean(key, invalid)
        if key not in item:
            detail = f"object has no {shown!r} key"
        else:
            detail = f"{shown!r} is {_json_type(value)}, not a string"
        return _error_row(number, row_id, "invalid-row", detail, columns)
    return _text_row(number, row_id, value, columns, spec, invalid)


def _render(value: object) -> str:
    """A JSON value as a CSV cell: scalars as written, nested values as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_decimal_json)
    return str(value)  # int or Decimal: str(Decimal) keeps the digits as written


def _decimal_json(value: object) -> int | float:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float, Decimal)):
        return "a number"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "a string"


# ---- TXT -----------------------------------------------------------------------------------


def _txt_rows(text: io.TextIOWrapper, spec: FileSpec, state: _State) -> Iterator[Row]:
    state.text_field = "text"
    state.add_columns(["text"])
    limit = max(_LINE_CHARS, 2 * spec.max_text_chars)
    for number, (line, length) in enumerate(_read_lines(text, limit), start=1):
        if line is None:
            detail = f"text has {length} characters; the maximum is {spec.max_text_chars}"
            yield _error_row(number, str(number), "text-too-long", detail, {"text": ""})
        else:
            yield _text_row(number, str(number), line, {"text": _clean(line)}, spec)


def _read_lines(text: _Text, limit: int) -> Iterator[tuple[str | None, int]]:
    """(line, length) per "\\n"-ended line, without "\\n" or a trailing "\\r".

    A line longer than `limit` characters is read through and yielded as (None, its length).
    A final newline does not start another line.
    """
    while line := text.readline(limit + 1):
        if line.endswith("\n") or len(line) <= limit:
            line = line.removesuffix("\n").removesuffix("\r")
            yield line, len(line)
            continue
        length = len(line)
        while (rest := text.readline(_BUFFER_BYTES)) and not rest.endswith("\n"):
            length += len(rest)
        length += len(rest.removesuffix("\n").removesuffix("\r"))
        yield None, length


# ---- chat conversations --------------------------------------------------------------------

# Keys are compared after strip() and lower(); in each tuple the earlier name wins.
CONVERSATION_ID_KEYS = ("conversation_id", "conversationid", "id", "chat_id", "thread_id", "session_id")
_CONVERSATION_ONLY_ID_KEYS = tuple(key for key in CONVERSATION_ID_KEYS if key != "id")
MESSAGE_LIST_KEYS = ("messages", "turns", "conversation", "conversations", "dialog", "chat")
SPEAKER_KEYS = ("speaker", "role", "author", "from", "sender", "user", "name")
MESSAGE_TEXT_KEYS = ("text", "content", "message", "body", "value")
TIMESTAMP_KEYS = ("timestamp", "time", "created_at", "ts", "date")
# A top-level JSON object (or JSONL line) may hold the conversations array under one of these.
WRAPPER_KEYS = ("conversations", "data")
CONVERSATION_COLUMNS = ("conversation_id", "turn", "speaker", "timestamp", "text")
# Leaves room for "#" and the turn, so that a message id f"{conversation_id}#{turn}" fits MAX_ID_CHARS.
MAX_CONVERSATION_ID_CHARS = MAX_ID_CHARS - 16
# Part types that carry text in structured content (OpenAI chat and responses, ChatGPT exports).
_TEXT_PART_TYPES = ("text", "input_text", "output_text")
# No real export nests text deeper; a hostile file must not make _content_text recurse without end.
_CONTENT_DEPTH = 4


def _conversation_file_rows(text: _Text, spec: FileSpec, state: _State) -> Iterator[Row]:
    """A file declared as conversations: JSON Lines when its first line that is not blank holds a
    whole JSON object, else one JSON document (an array, or an object wrapping one)."""
    newlines = 0
    while (char := text.read(1)).isspace():
        newlines += char == "\n"  # kept so that JSONL line numbers stay right; other blanks are not
    head = "\n" * newlines + char
    if char == "{":
        head += text.readline(max(_LINE_CHARS, 2 * spec.max_text_chars))
        if _is_json(head):
            yield from _jsonl_rows(_Replayed(head, text), spec, state)
            return
    yield from _json_rows(_Replayed(head, text), spec, state)


def _is_json(line: str) -> bool:
    try:
        json.loads(line, parse_float=Decimal)
    except (ValueError, RecursionError):
        return False
    return True


class _Replayed:
    """A text stream that gives back `head`, already read from `rest` to look at it, then the rest."""

    def __init__(self, head: str, rest: _Text) -> None:
        self._head = head
        self._rest = rest

    def read(self, size: int, /) -> str:
        if not self._head:
            return self._rest.read(size)
        out, self._head = self._head[:size], self._head[size:]
        return out

    def readline(self, size: int, /) -> str:
        if not self._head:
            return self._rest.readline(size)
        end = self._head.find("\n") + 1 or len(self._head)
        out = self._head[: min(end, size)]
        self._head = self._head[len(out) :]
        if not self._head and not out.endswith("\n") and len(out) < size:
            out += self._rest.readline(size - len(out))
        return out


def _keys_of(obj: dict[str, Any], candidates: Sequence[str]) -> list[str]:
    """The keys of `obj` that match `candidates` (ignoring case and surrounding spaces), in candidate order."""
    folded: dict[str, str] = {}
    for key in obj:
        folded.setdefault(str(key).strip().lower(), key)
    return [folded[name] for name in candidates if name in folded]


def _lookup(obj: dict[str, Any], candidates: Sequence[str]) -> tuple[str | None, Any]:
    """The first candidate key with a value that is not null, else the first one present (with None)."""
    keys = _keys_of(obj, candidates)
    for key in keys:
        if obj[key] is not None:
            return key, obj[key]
    return (keys[0] if keys else None), None


def _is_conversation(item: object) -> bool:
    """A conversation object: a dict with a list of message objects under a message-list key. An
    empty list, or one of plain strings, counts only beside a conversation-specific id key
    (conversation_id, chat_id, ...; not a bare "id", which every review record has): so a file whose
    first conversation is empty is still read as conversations, and a review with a "chat" list of
    notes is still a review."""
    if not isinstance(item, dict):
        return False
    for value in (item[key] for key in _keys_of(item, MESSAGE_LIST_KEYS)):
        if not isinstance(value, list):
            continue
        if value and isinstance(value[0], dict):
            return True
        if (not value or isinstance(value[0], str)) and _keys_of(item, _CONVERSATION_ONLY_ID_KEYS):
            return True
    return False


def _unwrapped(item: object) -> list[Any]:
    """A JSONL line's conversations: the array a wrapper object holds, else the line itself."""
    if isinstance(item, dict):
        for key in _keys_of(item, WRAPPER_KEYS):
            value = item[key]
            if isinstance(value, list) and value and _is_conversation(value[0]):
                return value
    return [item]


def _preferring(name: str | None, candidates: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(((name.strip().lower(),) if name else ()) + candidates))


class _Conversations:
    """Rows for a stream of conversation objects: one per message, numbered across the file.

    A message's id is f"{conversation_id}#{turn}" (turn counts from 1 within its conversation); a
    conversation without an id is "conversation-<n>", n its 1-based position in the file. A
    conversation that cannot be read at all becomes one invalid-conversation row with turn 0. A
    caller's id_field and text_field name the conversation id and message text keys tried first.
    """

    def __init__(self, spec: FileSpec, state: _State, invalid: re.Pattern[str]) -> None:
        self._spec = spec
        self._invalid = invalid
        self._number = 0  # rows so far
        self._position = 0  # conversations so far
        self._id_keys = _preferring(spec.id_field, CONVERSATION_ID_KEYS)
        self._text_keys = _preferring(spec.text_field, MESSAGE_TEXT_KEYS)
        # Recorded with the task, then given back when finalize reads the file: it must read the same.
        state.text_field = spec.text_field or "text"
        state.add_columns(CONVERSATION_COLUMNS)

    def rows(self, conversations: Iterable[Any]) -> Iterator[Row]:
        for conversation in conversations:
            yield from self._conversation_rows(conversation)

    def rows_of_lines(self, lines: Iterable[tuple[int, Any, RowError | None]]) -> Iterator[Row]:
        for _, item, error in lines:
            if error is None:
                yield from self.rows(_unwrapped(item))
                continue
            self._position += 1
            detail = "the line is empty" if error is _BLANK_LINE else error.detail
            yield self._invalid_conversation(f"conversation-{self._position}", detail)

    def _conversation_rows(self, conversation: object) -> Iterator[Row]:
        self._position += 1
        fallback_id = f"conversation-{self._position}"
        if not isinstance(conversation, dict):
            detail = f"conversation is {_json_type(conversation)}; expected an object"
            yield self._invalid_conversation(fallback_id, detail)
            return
        conversation_id, problem = self._conversation_id(conversation, fallback_id)
        if problem is not None:
            yield self._invalid_conversation(conversation_id, problem)
            return
        keys = _keys_of(conversation, MESSAGE_LIST_KEYS)
        key = next((key for key in keys if isinstance(conversation[key], list)), None)
        if key is None:
            if keys:
                shown = _clean(keys[0], self._invalid)
                detail = f"{shown!r} is {_json_type(conversation[keys[0]])}, not an array of messages"
            else:
                detail = f"conversation has no messages; expected them under one of {_names(MESSAGE_LIST_KEYS)}"
            yield self._invalid_conversation(conversation_id, detail)
            return
        if not conversation[key]:
            shown = _clean(key, self._invalid)
            yield self._invalid_conversation(conversation_id, f"{shown!r} is empty: the conversation has no messages")
            return
        for turn, message in enumerate(conversation[key], start=1):
            self._number += 1
            yield self._message_row(conversation_id, turn, message)

    def _conversation_id(self, conversation: dict[str, Any], fallback_id: str) -> tuple[str, str | None]:
        """The conversation's id (fallback_id when it has none), and why it is unusable, if it is."""
        _, value = _lookup(conversation, self._id_keys)
        if value is None:
            return fallback_id, None
        if isinstance(value, (dict, list)):
            return fallback_id, f"the conversation id is {_json_type(value)}; ids must be strings or numbers"
        rendered = _clean(_render(value), self._invalid).strip()
        if len(rendered) > MAX_CONVERSATION_ID_CHARS:
            detail = f"the conversation id has {len(rendered)} characters; the maximum is {MAX_CONVERSATION_ID_CHARS}"
            return fallback_id, detail
        return rendered or fallback_id, None

    def _message_row(self, conversation_id: str, turn: int, message: object) -> Row:
        speaker = timestamp = text = None
        problem = None
        if isinstance(message, str):
            text = message
        elif isinstance(message, dict):
            speaker = _label(_lookup(message, SPEAKER_KEYS)[1], self._invalid)
            timestamp = _label(_lookup(message, TIMESTAMP_KEYS)[1], self._invalid)
            text, problem = self._message_text(message)
        else:
            problem = f"message is {_json_type(message)}; expected an object or a string"
        # Speakers and timestamps travel in every queue item and result, so they are bounded like ids.
        for name, value in (("speaker", speaker), ("timestamp", timestamp)):
            if problem is None and value is not None and len(value) > MAX_ID_CHARS:
                problem = f"the {name} has {len(value)} characters; the maximum is {MAX_ID_CHARS}"
        columns = {
            "conversation_id": conversation_id,
            "turn": str(turn),
            "speaker": speaker or "",
            "timestamp": timestamp or "",
            "text": "" if text is None else _clean(text, self._invalid),
        }
        row_id = f"{conversation_id}#{turn}"
        if problem is not None or text is None:
            row = _error_row(self._number, row_id, "invalid-row", problem or "message has no text", columns)
        else:
            row = _text_row(self._number, row_id, text, columns, self._spec, self._invalid)
        reference = {
            "conversation_id": conversation_id,
            "turn": turn,
            "speaker": _bounded(speaker),
            "timestamp": _bounded(timestamp),
        }
        return replace(row, conversation=reference)

    def _message_text(self, message: dict[str, Any]) -> tuple[str | None, str | None]:
        """The message's text, or why it has none that can be used."""
        key, value = _lookup(message, self._text_keys)
        if key is None:
            return None, f"message has no text; expected it under one of {_names(self._text_keys)}"
        shown = _clean(key, self._invalid)
        if isinstance(value, str):
            return value, None
        if isinstance(value, (list, dict)):
            text = _content_text(value)
            return (text, None) if text is not None else (None, f"{shown!r} holds no text parts")
        return None, f"{shown!r} is {_json_type(value)}, not a string"

    def _invalid_conversation(self, conversation_id: str, detail: str) -> Row:
        self._number += 1
        columns = dict.fromkeys(CONVERSATION_COLUMNS, "") | {"conversation_id": conversation_id}
        reference = {"conversation_id": conversation_id, "turn": 0, "speaker": None, "timestamp": None}
        row = _error_row(self._number, conversation_id, "invalid-conversation", detail, columns)
        return replace(row, conversation=reference)


def _content_text(value: object, depth: int = 0) -> str | None:
    """The text of structured message content, None if it holds none: a list of parts (strings, or
    {"type": "text", "text": ...}) joined by newlines, or an object with its text under "text",
    "parts" or "value" (ChatGPT exports, Assistants). Parts of other types (images, audio, tool
    calls) hold no text."""
    if isinstance(value, str):
        return value
    if depth >= _CONTENT_DEPTH:
        return None
    if isinstance(value, list):
        texts = [text for part in value if (text := _content_text(part, depth + 1)) is not None]
        return "\n".join(texts) if texts else None
    if isinstance(value, dict):
        kind = value.get("type", value.get("content_type"))
        if kind is not None and kind not in _TEXT_PART_TYPES:
            return None
        for key in ("text", "parts", "value"):
            if key in value:
                return _content_text(value[key], depth + 1)
    return None


def _label(value: object, invalid: re.Pattern[str]) -> str | None:
    """A speaker or timestamp as text: scalars as written, an author object by its role or name."""
    if isinstance(value, dict):
        _, inner = _lookup(value, ("role", "name", "id"))
        if inner is not None and not isinstance(inner, (dict, list)):
            value = inner
    try:
        text = _clean(_render(value), invalid).strip()
    except RecursionError:  # nested past Python's limit: no name or time anyone wrote, so none
        return None
    return text or None


def _bounded(value: str | None) -> str | None:
    return value if value is None or len(value) <= MAX_ID_CHARS else None


def _names(names: Sequence[str]) -> str:
    return ", ".join(repr(name) for name in names)


_READERS = {
    FileFormat.CSV: _csv_rows,
    FileFormat.JSON: _json_rows,
    FileFormat.JSONL: _jsonl_rows,
    FileFormat.TXT: _txt_rows,
    FileFormat.CONVERSATIONS: _conversation_file_rows,
}
