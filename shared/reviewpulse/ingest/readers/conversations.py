"""Chat conversations: one Row per message, numbered across the file (see Conversations)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from typing import Any

from reviewpulse.ingest.file_spec import FileSpec
from reviewpulse.ingest.readers.json_values import json_type, render_value
from reviewpulse.ingest.readers.rows import (
    BLANK_LINE,
    MAX_ID_CHARS,
    ReadState,
    Row,
    RowError,
    clean,
    error_row,
    text_row,
)

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


def keys_of(obj: dict[str, Any], candidates: Sequence[str]) -> list[str]:
    """The keys of `obj` that match `candidates` (ignoring case and surrounding spaces), in candidate order."""
    folded: dict[str, str] = {}
    for key in obj:
        folded.setdefault(str(key).strip().lower(), key)
    return [folded[name] for name in candidates if name in folded]


def _lookup(obj: dict[str, Any], candidates: Sequence[str]) -> tuple[str | None, Any]:
    """The first candidate key with a value that is not null, else the first one present (with None)."""
    keys = keys_of(obj, candidates)
    for key in keys:
        if obj[key] is not None:
            return key, obj[key]
    return (keys[0] if keys else None), None


def is_conversation(item: object) -> bool:
    """A conversation object: a dict with a list of message objects under a message-list key. An
    empty list, or one of plain strings, counts only beside a conversation-specific id key
    (conversation_id, chat_id, ...; not a bare "id", which every review record has): so a file whose
    first conversation is empty is still read as conversations, and a review with a "chat" list of
    notes is still a review."""
    if not isinstance(item, dict):
        return False
    for value in (item[key] for key in keys_of(item, MESSAGE_LIST_KEYS)):
        if not isinstance(value, list):
            continue
        if value and isinstance(value[0], dict):
            return True
        if (not value or isinstance(value[0], str)) and keys_of(item, _CONVERSATION_ONLY_ID_KEYS):
            return True
    return False


def unwrapped(item: object) -> list[Any]:
    """A JSONL line's conversations: the array a wrapper object holds, else the line itself."""
    if isinstance(item, dict):
        for key in keys_of(item, WRAPPER_KEYS):
            value = item[key]
            if isinstance(value, list) and value and is_conversation(value[0]):
                return value
    return [item]


def _preferring(name: str | None, candidates: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(((name.strip().lower(),) if name else ()) + candidates))


class Conversations:
    """Rows for a stream of conversation objects: one per message, numbered across the file.

    A message's id is f"{conversation_id}#{turn}" (turn counts from 1 within its conversation); a
    conversation without an id is "conversation-<n>", n its 1-based position in the file. A
    conversation that cannot be read at all becomes one invalid-conversation row with turn 0. A
    caller's id_field and text_field name the conversation id and message text keys tried first.
    """

    def __init__(self, spec: FileSpec, state: ReadState, invalid: re.Pattern[str]) -> None:
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
                yield from self.rows(unwrapped(item))
                continue
            self._position += 1
            detail = "the line is empty" if error is BLANK_LINE else error.detail
            yield self._invalid_conversation(f"conversation-{self._position}", detail)

    def _conversation_rows(self, conversation: object) -> Iterator[Row]:
        self._position += 1
        fallback_id = f"conversation-{self._position}"
        if not isinstance(conversation, dict):
            detail = f"conversation is {json_type(conversation)}; expected an object"
            yield self._invalid_conversation(fallback_id, detail)
            return
        conversation_id, problem = self._conversation_id(conversation, fallback_id)
        if problem is not None:
            yield self._invalid_conversation(conversation_id, problem)
            return
        keys = keys_of(conversation, MESSAGE_LIST_KEYS)
        key = next((key for key in keys if isinstance(conversation[key], list)), None)
        if key is None:
            if keys:
                shown = clean(keys[0], self._invalid)
                detail = f"{shown!r} is {json_type(conversation[keys[0]])}, not an array of messages"
            else:
                detail = f"conversation has no messages; expected them under one of {_names(MESSAGE_LIST_KEYS)}"
            yield self._invalid_conversation(conversation_id, detail)
            return
        if not conversation[key]:
            shown = clean(key, self._invalid)
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
            return fallback_id, f"the conversation id is {json_type(value)}; ids must be strings or numbers"
        rendered = clean(render_value(value), self._invalid).strip()
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
            problem = f"message is {json_type(message)}; expected an object or a string"
        # Speakers and timestamps travel in every queue item and result, so they are bounded like ids.
        for name, value in (("speaker", speaker), ("timestamp", timestamp)):
            if problem is None and value is not None and len(value) > MAX_ID_CHARS:
                problem = f"the {name} has {len(value)} characters; the maximum is {MAX_ID_CHARS}"
        columns = {
            "conversation_id": conversation_id,
            "turn": str(turn),
            "speaker": speaker or "",
            "timestamp": timestamp or "",
            "text": "" if text is None else clean(text, self._invalid),
        }
        row_id = f"{conversation_id}#{turn}"
        if problem is not None or text is None:
            row = error_row(self._number, row_id, "invalid-row", problem or "message has no text", columns)
        else:
            row = text_row(self._number, row_id, text, columns, self._spec, self._invalid)
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
        shown = clean(key, self._invalid)
        if isinstance(value, str):
            return value, None
        if isinstance(value, (list, dict)):
            text = _content_text(value)
            return (text, None) if text is not None else (None, f"{shown!r} holds no text parts")
        return None, f"{shown!r} is {json_type(value)}, not a string"

    def _invalid_conversation(self, conversation_id: str, detail: str) -> Row:
        self._number += 1
        columns = dict.fromkeys(CONVERSATION_COLUMNS, "") | {"conversation_id": conversation_id}
        reference = {"conversation_id": conversation_id, "turn": 0, "speaker": None, "timestamp": None}
        row = error_row(self._number, conversation_id, "invalid-conversation", detail, columns)
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
        text = clean(render_value(value), invalid).strip()
    # Nested past Python's limit, or a number too large to write: no name or time anyone wrote, so none.
    except (RecursionError, ValueError):
        return None
    return text or None


def _bounded(value: str | None) -> str | None:
    return value if value is None or len(value) <= MAX_ID_CHARS else None


def _names(names: Sequence[str]) -> str:
    return ", ".join(repr(name) for name in names)
