"""What every reader shares: the Row it yields, what it learns about the input, and how a row
is built from a value (its id, its text or its error) and how columns are found by name."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from reviewpulse.errors import UnusableFile
from reviewpulse.ingest.file_spec import FileSpec

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

# Longer ids would bloat every queue message and results line, and one megabyte id would make a
# chunk that can never fit an SQS message; such a row is invalid-row and keeps its row number.
MAX_ID_CHARS = 256

# Undecodable bytes turn into lone surrogates (surrogateescape for UTF-8, decoding's UTF-16 handler);
# valid decoded text never contains them, so finding one marks the row invalid-encoding.
SURROGATES = re.compile("[\ud800-\udfff]")
# In JSON files undecodable characters reach ijson as U+FDD0 (see json_file), so that mark counts too.
JSON_INVALID = re.compile("[\ud800-\udfff\ufdd0]")


class Text(Protocol):
    """What the readers need from decoded text: the TextIOWrapper, or Replayed in front of it."""

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
class ReadState:
    """What a reader learns about the input as it goes; RowStream exposes it."""

    text_field: str
    columns: list[str] = field(default_factory=list)
    object_key: str | None = None  # JSON/JSONL: text key fixed by the first object
    id_key: str | None = None  # JSON/JSONL: id key fixed by the first object, when id_field is given
    encoding: str = "UTF-8"  # as people name it (encoding_name): what the file was read in
    delimiter: str | None = None  # CSV: the delimiter it was read with
    _seen: set[str] = field(default_factory=set)

    def add_columns(self, names: Iterable[str]) -> None:
        for name in names:
            if name not in self._seen:
                self._seen.add(name)
                self.columns.append(name)


class RowStream:
    """A single-pass iterator of Rows, plus what is known about the input's columns."""

    def __init__(self, rows: Iterator[Row], state: ReadState) -> None:
        self._rows = rows
        self._state = state

    @property
    def columns(self) -> list[str]:
        """Input column names in first-seen order; for JSON/JSONL complete once iteration ends.

        A CSV header's repeated names are made unique ("tag", "tag_2", ...), as in Row.columns.
        """
        return list(self._state.columns)

    @property
    def encoding(self) -> str:
        """The encoding the file was read in, as people name it (UTF-8, Windows-1252, …)."""
        return self._state.encoding

    @property
    def delimiter(self) -> str | None:
        """CSV: the delimiter the file was read with (given or told from the file)."""
        return self._state.delimiter

    @property
    def text_field(self) -> str:
        """The column or key the text is read from ("text" for strings and TXT)."""
        return self._state.text_field

    def __iter__(self) -> RowStream:
        return self

    def __next__(self) -> Row:
        return next(self._rows)


def clean(value: str, invalid: re.Pattern[str] = SURROGATES) -> str:
    """Replace undecodable characters so columns and ids can be encoded downstream."""
    return invalid.sub("\ufffd", value) if invalid.search(value) else value


def parse_row_id(number: int, value: str | None) -> tuple[str, RowError | None]:
    """The row's id (its number when the value is missing or blank), or its number and an error."""
    value = value.strip() if value else ""
    if len(value) > MAX_ID_CHARS:
        detail = f"the id has {len(value)} characters; the maximum is {MAX_ID_CHARS}"
        return str(number), RowError("invalid-row", detail)
    return value or str(number), None


def text_row(
    number: int,
    row_id: str,
    text: str,
    columns: dict[str, str],
    spec: FileSpec,
    invalid: re.Pattern[str] = SURROGATES,
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


def error_row(number: int, row_id: str, code: str, detail: str, columns: dict[str, str]) -> Row:
    return Row(number, row_id, None, RowError(code, detail), columns)


def find_name(names: list[str], wanted: str) -> int | None:
    """Index of `wanted` in names: exact match first, then ignoring case and surrounding spaces."""
    if wanted in names:
        return names.index(wanted)
    folded = wanted.strip().lower()
    return next((i for i, name in enumerate(names) if name.strip().lower() == folded), None)


def find_text_name(names: list[str], text_field: str | None, *, single_fallback: bool, where: str) -> int:
    """Index of the text column/key: the given one, else the first candidate name."""
    if text_field is not None:
        index = find_name(names, text_field)
        if index is None:
            detail = f"{where} has no {text_field!r}; it has: {list_names(names)}"
            raise UnusableFile("text-column-not-found", detail)
        return index
    for i, name in enumerate(names):
        if name.strip().lower() in TEXT_COLUMN_CANDIDATES:
            return i
    if single_fallback and len(names) == 1:
        return 0
    raise UnusableFile(
        "text-column-not-found",
        f"no text column could be detected, so name one with text_field; {where} has: {list_names(names)}",
    )


def find_id_name(names: list[str], id_field: str, *, where: str) -> int:
    """Index of the id column/key, matched like text_field; a missing one makes the file unusable."""
    index = find_name(names, id_field)
    if index is None:
        raise UnusableFile("id-column-not-found", f"{where} has no {id_field!r}; it has: {list_names(names)}")
    return index


def unique_names(names: list[str]) -> list[str]:
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


def list_names(names: list[str], limit: int = 50) -> str:
    shown = ", ".join(repr(clean(name)) for name in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "") if names else "(nothing)"


# A blank JSONL line: an empty row, or for conversations an empty conversation.
BLANK_LINE = RowError("empty-text", "text is empty")
