"""Chat conversations: reading every export shape into message rows, and summarising them per conversation."""

from __future__ import annotations

import io
import json
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest
from reviewpulse.errors import FILE_ERROR_CODES, ROW_ERROR_CODES, UnsupportedFormat, UnusableFile
from reviewpulse.ingest.chunking import chunk_rows, row_item
from reviewpulse.ingest.file_spec import FileSpec
from reviewpulse.ingest.formats import FileFormat
from reviewpulse.ingest.readers import (
    CONVERSATION_COLUMNS,
    MAX_CONVERSATION_ID_CHARS,
    MAX_ID_CHARS,
    Row,
    RowStream,
    open_rows,
)
from reviewpulse.queues import WorkItem
from reviewpulse.results.conversations import (
    CLEAR_SCORE,
    LABEL_THRESHOLD,
    STEADY_BAND,
    ConversationsBuilder,
    ConversationSummary,
    conversation_label,
    trajectory,
)
from reviewpulse.results.model import ItemResult
from reviewpulse.usecases.create_batch import _resolve_format

JSON, JSONL, CONVERSATIONS = FileFormat.JSON, FileFormat.JSONL, FileFormat.CONVERSATIONS


def read_all(data: bytes, fmt: FileFormat, **spec: Any) -> tuple[RowStream, list[Row]]:
    stream = open_rows(io.BytesIO(data), FileSpec(fmt, **spec))
    return stream, list(stream)


def rows_of(value: Any, fmt: FileFormat = JSON, **spec: Any) -> list[Row]:
    return read_all(json.dumps(value).encode(), fmt, **spec)[1]


def jsonl(*lines: Any) -> bytes:
    return "".join(json.dumps(line) + "\n" for line in lines).encode()


def brief(rows: list[Row]) -> list[tuple[int, str, str | None, str | None]]:
    return [(r.number, r.id, r.text, r.error.code if r.error else None) for r in rows]


def refs(rows: list[Row]) -> list[tuple[str, int, str | None, str | None]]:
    return [
        (
            r.conversation["conversation_id"],
            r.conversation["turn"],
            r.conversation["speaker"],
            r.conversation["timestamp"],
        )
        for r in rows
        if r.conversation is not None
    ]


def unusable(data: bytes, fmt: FileFormat, **spec: Any) -> UnusableFile:
    with pytest.raises(UnusableFile) as caught:
        read_all(data, fmt, **spec)
    assert caught.value.code in FILE_ERROR_CODES
    return caught.value


def chat(conversation_id: str, *texts: str) -> dict[str, Any]:
    speakers = ("customer", "agent")
    return {
        "conversation_id": conversation_id,
        "messages": [{"speaker": speakers[i % 2], "text": text} for i, text in enumerate(texts)],
    }


# ---- reading: the canonical shape ----------------------------------------------------------


def test_canonical_conversations_become_one_row_per_message() -> None:
    # Given two conversations with speakers and timestamps
    data = [
        {
            "conversation_id": "c-1",
            "messages": [
                {"speaker": "customer", "text": " My order is late ", "timestamp": "2024-05-01T10:00:00Z"},
                {"speaker": "agent", "text": "Sorry, it ships today", "timestamp": "2024-05-01T10:01:00Z"},
            ],
        },
        {"conversation_id": "c-2", "messages": [{"role": "user", "content": "Thanks!"}]},
    ]
    # When the JSON file is read
    stream, rows = read_all(json.dumps(data).encode(), JSON)
    # Then rows are numbered over the whole file, ids are conversation#turn and texts are stripped
    assert brief(rows) == [
        (1, "c-1#1", "My order is late", None),
        (2, "c-1#2", "Sorry, it ships today", None),
        (3, "c-2#1", "Thanks!", None),
    ]
    # And each row knows where it sits, as a reference and as string columns
    assert refs(rows) == [
        ("c-1", 1, "customer", "2024-05-01T10:00:00Z"),
        ("c-1", 2, "agent", "2024-05-01T10:01:00Z"),
        ("c-2", 1, "user", None),
    ]
    assert rows[0].columns == {
        "conversation_id": "c-1",
        "turn": "1",
        "speaker": "customer",
        "timestamp": "2024-05-01T10:00:00Z",
        "text": " My order is late ",
    }
    assert rows[2].columns == {
        "conversation_id": "c-2",
        "turn": "1",
        "speaker": "user",
        "timestamp": "",
        "text": "Thanks!",
    }
    # And the stream reports the fixed conversation columns, with "text" as the text column
    assert stream.columns == list(CONVERSATION_COLUMNS)
    assert stream.text_field == "text"


def test_the_queue_item_carries_the_message_reference() -> None:
    # Given a message row
    (row,) = rows_of([{"id": 7, "messages": [{"from": "bot", "value": "hello"}]}])
    # When it becomes a queue item
    item = row_item(row)
    # Then the item holds its text and where it sits in its conversation
    assert item == {
        "row": 1,
        "id": "7#1",
        "text": "hello",
        "conversation": {"conversation_id": "7", "turn": 1, "speaker": "bot", "timestamp": None},
    }


# ---- reading: key variants -----------------------------------------------------------------


@pytest.mark.parametrize("key", ["conversation_id", "conversationId", "id", "chat_id", "thread_id", "session_id"])
def test_conversation_id_keys(key: str) -> None:
    # Given a conversation whose id is under one of the usual keys
    rows = rows_of([{key: "abc", "messages": [{"text": "hi"}]}])
    # Then that is the conversation's id
    assert refs(rows)[0][0] == "abc" and rows[0].id == "abc#1"


def test_conversation_id_key_preference_and_numbers() -> None:
    # Given a conversation with both conversation_id and id, and one with a null id and a numeric
    # thread_id
    rows = rows_of(
        [
            {"id": "outer", "conversation_id": "inner", "messages": [{"text": "a"}]},
            {"conversation_id": None, "thread_id": 42, "messages": [{"text": "b"}]},
        ]
    )
    # Then conversation_id wins over id, and a null id gives way to the next key
    assert [r.id for r in rows] == ["inner#1", "42#1"]


@pytest.mark.parametrize("key", ["messages", "turns", "conversation", "conversations", "dialog", "chat"])
def test_message_list_keys(key: str) -> None:
    # Given a conversation whose messages are under one of the usual keys
    rows = rows_of([{"id": "x", key: [{"text": "one"}, {"text": "two"}]}])
    # Then each message is a row
    assert [r.text for r in rows] == ["one", "two"]


@pytest.mark.parametrize("key", ["speaker", "role", "author", "from", "sender", "user", "name"])
def test_speaker_keys(key: str) -> None:
    rows = rows_of([{"id": "x", "messages": [{key: "Dana", "text": "hi"}]}])
    assert refs(rows)[0][2] == "Dana" and rows[0].columns["speaker"] == "Dana"


@pytest.mark.parametrize("key", ["text", "content", "message", "body", "value"])
def test_text_keys(key: str) -> None:
    rows = rows_of([{"id": "x", "messages": [{"role": "user", key: "the words"}]}])
    assert rows[0].text == "the words" and rows[0].error is None


@pytest.mark.parametrize("key", ["timestamp", "time", "created_at", "ts", "date"])
def test_timestamp_keys(key: str) -> None:
    rows = rows_of([{"id": "x", "messages": [{"text": "hi", key: "2024-01-02"}]}])
    assert refs(rows)[0][3] == "2024-01-02"


def test_keys_match_ignoring_case_and_numbers_keep_their_digits() -> None:
    # Given keys in other cases and a numeric timestamp written with a trailing zero
    data = b'[{"ConversationId": "k", "Messages": [{"Role": "User", "Content": "hi", "TS": 1714557600.50}]}]'
    (row,) = read_all(data, JSON)[1]
    # Then the keys are found and the timestamp keeps its digits as written
    assert refs([row]) == [("k", 1, "User", "1714557600.50")]


def test_sharegpt_conversations() -> None:
    # Given ShareGPT's shape: "conversations" of {"from", "value"}
    data = [{"id": "sg-1", "conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello!"}]}]
    rows = rows_of(data)
    assert brief(rows) == [(1, "sg-1#1", "Hi", None), (2, "sg-1#2", "Hello!", None)]
    assert [r[2] for r in refs(rows)] == ["human", "gpt"]


def test_openai_content_parts_are_joined() -> None:
    # Given OpenAI-style content: a list of parts, some of them not text
    content = [
        {"type": "text", "text": "First part."},
        {"type": "image_url", "image_url": {"url": "https://example.invalid/a.png"}},
        {"type": "input_text", "text": "Second part."},
        "A bare string part.",
    ]
    rows = rows_of([{"id": "o", "messages": [{"role": "user", "content": content}]}])
    # Then the text parts are joined, in order, one per line
    assert rows[0].text == "First part.\nSecond part.\nA bare string part."
    assert rows[0].columns["text"] == rows[0].text


def test_chatgpt_export_content_and_author_objects() -> None:
    # Given a ChatGPT-export message: author object and content with "parts", and an Assistants-style
    # text part whose text is an object with a value
    messages = [
        {"author": {"role": "user", "name": None}, "content": {"content_type": "text", "parts": ["Is it", "ready?"]}},
        {"author": {"role": "assistant"}, "content": [{"type": "text", "text": {"value": "Yes.", "annotations": []}}]},
    ]
    rows = rows_of([{"id": "g", "messages": messages}])
    assert [(r.text, r.conversation["speaker"]) for r in rows] == [("Is it\nready?", "user"), ("Yes.", "assistant")]


def test_plain_string_messages_have_no_speaker() -> None:
    rows = rows_of([{"id": "s", "turns": ["hello", "bye"]}], CONVERSATIONS)
    assert [(r.text, r.conversation["speaker"]) for r in rows] == [("hello", None), ("bye", None)]


def test_conversations_without_an_id_are_numbered_by_position() -> None:
    # Given conversations without ids, one with an empty id, around one that is not an object
    rows = rows_of([{"messages": [{"text": "a"}]}, 5, {"id": "  ", "messages": [{"text": "b"}]}, chat("named", "c")])
    # Then each gets conversation-<its 1-based position in the file>
    assert [r.id for r in rows] == ["conversation-1#1", "conversation-2", "conversation-3#1", "named#1"]


# ---- reading: containers -------------------------------------------------------------------


@pytest.mark.parametrize("wrapper", ["conversations", "data", "Data"])
def test_top_level_wrappers(wrapper: str) -> None:
    # Given an object wrapping the conversations, with other keys (even nested "data") before it
    data = {"meta": {"data": [1, 2]}, "exported": "2024", wrapper: [chat("a", "x", "y"), chat("b", "z")]}
    for fmt in (JSON, CONVERSATIONS):
        # When read as JSON or declared as conversations
        stream, rows = read_all(json.dumps(data, indent=2).encode(), fmt)
        # Then the wrapped conversations are read, and the other keys are not rows
        assert [r.id for r in rows] == ["a#1", "a#2", "b#1"]
        assert stream.columns == list(CONVERSATION_COLUMNS)


def test_jsonl_with_one_conversation_per_line() -> None:
    # Given JSON Lines of conversations, one of them wrapped, with a blank line between
    data = jsonl(chat("a", "x"), {"data": [chat("b", "y"), chat("c", "z")]}) + b"\n" + jsonl(chat("d", "w"))
    for fmt in (JSONL, CONVERSATIONS):
        # When read as JSONL or declared as conversations
        stream, rows = read_all(data, fmt)
        # Then every conversation is read, and the blank line is one invalid conversation
        assert brief(rows) == [
            (1, "a#1", "x", None),
            (2, "b#1", "y", None),
            (3, "c#1", "z", None),
            (4, "conversation-4", None, "invalid-conversation"),
            (5, "d#1", "w", None),
        ]
        assert rows[3].error.detail == "the line is empty"
        assert stream.columns == list(CONVERSATION_COLUMNS)


@pytest.mark.parametrize(
    "data",
    [
        json.dumps([chat("a", "x"), chat("b", "y")]).encode(),  # one line
        json.dumps([chat("a", "x"), chat("b", "y")], indent=2).encode(),  # pretty
        b"\n\n  " + json.dumps({"conversations": [chat("a", "x"), chat("b", "y")]}, indent=1).encode(),
        jsonl(chat("a", "x"), chat("b", "y")),
        b"\xef\xbb\xbf" + jsonl(chat("a", "x"), chat("b", "y")),  # with a UTF-8 BOM
        json.dumps([chat("a", "x"), chat("b", "y")]).encode("utf-16"),
    ],
)
def test_declared_conversations_tell_json_from_jsonl(data: bytes) -> None:
    # Given the same two conversations as a JSON document or as JSON Lines
    _, rows = read_all(data, CONVERSATIONS)
    # Then both read the same
    assert brief(rows) == [(1, "a#1", "x", None), (2, "b#1", "y", None)]


def test_declared_jsonl_keeps_line_numbers_after_leading_blank_lines() -> None:
    # Given a JSONL file declared as conversations that starts with blank lines
    _, rows = read_all(b"\n  \n" + jsonl(chat("a", "x")), CONVERSATIONS)
    # Then each blank line is reported, before the conversation
    assert brief(rows) == [
        (1, "conversation-1", None, "invalid-conversation"),
        (2, "conversation-2", None, "invalid-conversation"),
        (3, "a#1", "x", None),
    ]


# ---- reading: detection --------------------------------------------------------------------


def test_plain_json_and_jsonl_are_not_taken_for_conversations() -> None:
    # Given reviews, one of them with a "messages" key that is not a list of objects
    reviews = [{"id": "r1", "text": "Great", "messages": "none"}, {"id": "r2", "text": "Bad", "chat": []}]
    for data, fmt in ((json.dumps(reviews).encode(), JSON), (jsonl(*reviews), JSONL)):
        stream, rows = read_all(data, fmt, id_field="id")
        # Then they are read as plain rows
        assert brief(rows) == [(1, "r1", "Great", None), (2, "r2", "Bad", None)]
        assert all(r.conversation is None for r in rows)
        assert stream.columns == ["id", "text", "messages", "chat"]


def test_the_first_item_decides_for_the_whole_file() -> None:
    # Given a plain review first, then a conversation object
    data = [{"text": "Great"}, chat("a", "hello")]
    # When read as JSON
    _, rows = read_all(json.dumps(data).encode(), JSON)
    # Then the file is plain: the conversation object is a row without text
    assert brief(rows) == [(1, "1", "Great", None), (2, "2", None, "invalid-row")]
    # And the other way round, a conversation first makes the review an invalid conversation
    _, rows = read_all(json.dumps(data[::-1]).encode(), JSON)
    assert brief(rows) == [(1, "a#1", "hello", None), (2, "conversation-2", None, "invalid-conversation")]


def test_jsonl_detection_looks_past_leading_blank_lines_and_replays_them() -> None:
    # Given a JSONL file whose first line is blank
    _, rows = read_all(b"\n" + jsonl(chat("a", "x")), JSONL)
    # Then the conversation still decides, and the blank line keeps its place
    assert brief(rows) == [(1, "conversation-1", None, "invalid-conversation"), (2, "a#1", "x", None)]
    # And a plain JSONL file with a leading blank line reads as before
    _, rows = read_all(b"\n" + jsonl({"text": "fine"}), JSONL)
    assert brief(rows) == [(1, "1", None, "empty-text"), (2, "2", "fine", None)]


def test_reading_again_with_the_recorded_fields_gives_the_same_rows() -> None:
    # Given conversations whose messages use several text keys, read as the splitter reads them
    data = json.dumps(
        [{"id": "a", "messages": [{"role": "u", "content": "one"}, {"from": "b", "value": "two"}, {"text": "three"}]}]
    ).encode()
    for fmt in (JSON, CONVERSATIONS):
        first, rows = read_all(data, fmt)
        # When read again as finalize does, with the text_field and columns the task recorded
        again = list(open_rows(io.BytesIO(data), FileSpec(fmt, text_field=first.text_field)))
        # Then every row is the same
        assert again == rows


def test_id_field_and_text_field_are_tried_first() -> None:
    # Given conversations with the id under "ticket" and the text under "utterance"
    data = [{"id": "ignored", "ticket": "T-9", "messages": [{"utterance": "works now", "text": "not this"}]}]
    stream, rows = read_all(json.dumps(data).encode(), CONVERSATIONS, id_field="ticket", text_field="Utterance")
    # Then the named keys win over the usual ones
    assert brief(rows) == [(1, "T-9#1", "works now", None)]
    assert stream.text_field == "Utterance"


# ---- reading: bad input --------------------------------------------------------------------


# An unreadable conversation's row id: its own id when it has a usable one, else its position.
FALLBACK = "conversation-2"


@pytest.mark.parametrize(
    ("conversation", "row_id", "detail"),
    [
        (5, FALLBACK, "conversation is a number; expected an object"),
        ("hi", FALLBACK, "conversation is a string; expected an object"),
        (None, FALLBACK, "conversation is null; expected an object"),
        ([{"text": "x"}], FALLBACK, "conversation is an array; expected an object"),
        (
            {"id": "c", "title": "no messages"},
            "c",
            "conversation has no messages; expected them under one of "
            "'messages', 'turns', 'conversation', 'conversations', 'dialog', 'chat'",
        ),
        ({"id": "c", "messages": "hello"}, "c", "'messages' is a string, not an array of messages"),
        ({"id": "c", "messages": None}, "c", "'messages' is null, not an array of messages"),
        ({"id": "c", "messages": []}, "c", "'messages' is empty: the conversation has no messages"),
        (
            {"id": {"a": 1}, "messages": [{"text": "x"}]},
            FALLBACK,
            "the conversation id is an object; ids must be strings or numbers",
        ),
        (
            {"id": "x" * (MAX_CONVERSATION_ID_CHARS + 1), "messages": [{"text": "x"}]},
            FALLBACK,
            f"the conversation id has {MAX_CONVERSATION_ID_CHARS + 1} characters; the maximum is {MAX_CONVERSATION_ID_CHARS}",
        ),
    ],
)
def test_unreadable_conversations_are_one_error_row(conversation: Any, row_id: str, detail: str) -> None:
    # Given a conversation that cannot be read, between two good ones
    _, rows = read_all(json.dumps([chat("a", "x"), conversation, chat("b", "y")]).encode(), CONVERSATIONS)
    # Then it is one invalid-conversation row (turn 0) and reading goes on
    assert [r.id for r in rows] == ["a#1", row_id, "b#1"]
    bad = rows[1]
    assert (bad.number, bad.text, bad.error.code, bad.error.detail) == (2, None, "invalid-conversation", detail)
    assert bad.conversation == {"conversation_id": bad.id, "turn": 0, "speaker": None, "timestamp": None}
    assert bad.columns == {"conversation_id": bad.id, "turn": "", "speaker": "", "timestamp": "", "text": ""}


@pytest.mark.parametrize(
    ("message", "code", "detail"),
    [
        (42, "invalid-row", "message is a number; expected an object or a string"),
        (None, "invalid-row", "message is null; expected an object or a string"),
        (
            {"role": "user"},
            "invalid-row",
            "message has no text; expected it under one of 'text', 'content', 'message', 'body', 'value'",
        ),
        ({"role": "assistant", "content": None}, "invalid-row", "'content' is null, not a string"),
        ({"role": "user", "text": 3}, "invalid-row", "'text' is a number, not a string"),
        ({"role": "user", "text": True}, "invalid-row", "'text' is a boolean, not a string"),
        (
            {"role": "user", "content": [{"type": "image_url", "image_url": {}}]},
            "invalid-row",
            "'content' holds no text parts",
        ),
        ({"role": "user", "content": []}, "invalid-row", "'content' holds no text parts"),
        ({"role": "user", "text": "   "}, "empty-text", "text is empty"),
        ({"role": "user", "content": [{"type": "text", "text": " "}]}, "empty-text", "text is empty"),
        ({"role": "user", "text": "x" * 21}, "text-too-long", "text has 21 characters; the maximum is 20"),
        (
            {"role": "r" * (MAX_ID_CHARS + 1), "text": "hi"},
            "invalid-row",
            f"the speaker has {MAX_ID_CHARS + 1} characters; the maximum is {MAX_ID_CHARS}",
        ),
        (
            {"text": "hi", "ts": "t" * (MAX_ID_CHARS + 1)},
            "invalid-row",
            f"the timestamp has {MAX_ID_CHARS + 1} characters; the maximum is {MAX_ID_CHARS}",
        ),
    ],
)
def test_unusable_messages_are_error_rows_in_their_place(message: Any, code: str, detail: str) -> None:
    # Given a conversation whose middle message cannot be analysed
    data = [{"id": "c", "messages": [{"text": "before"}, message, {"text": "after"}]}]
    _, rows = read_all(json.dumps(data).encode(), JSON, max_text_chars=20)
    # Then that message is an error row with its own turn, and its neighbours are read
    assert brief(rows) == [(1, "c#1", "before", None), (2, "c#2", None, code), (3, "c#3", "after", None)]
    assert rows[1].error.detail == detail
    assert rows[1].conversation["turn"] == 2
    # And an over-long speaker or timestamp is left out of what travels on the queue
    assert all(len(value or "") <= MAX_ID_CHARS for value in rows[1].conversation.values() if isinstance(value, str))


def test_undecodable_bytes_in_a_message_are_invalid_encoding() -> None:
    # Given a JSON file with a byte that is not UTF-8 inside one message's text
    data = json.dumps([chat("a", "good", "bad MARK here")]).encode().replace(b"MARK", b"\xe9")
    for fmt in (JSON, CONVERSATIONS):
        _, rows = read_all(data, fmt)
        # Then only that message is invalid-encoding, and its column is cleaned
        assert brief(rows) == [(1, "a#1", "good", None), (2, "a#2", None, "invalid-encoding")]
        assert rows[1].columns["text"] == "bad \ufffd here"


def test_values_nested_past_the_recursion_limit_do_not_stop_reading() -> None:
    # Given a speaker and a content nested 5,000 arrays deep
    deep = b"[" * 5000 + b"]" * 5000
    data = b'[{"id": "a", "messages": [{"speaker": ' + deep + b', "text": "hi"}, {"content": ' + deep + b"}]}]"
    # When read
    _, rows = read_all(data, JSON)
    # Then the first message has no speaker, and the second is a row without text
    assert brief(rows) == [(1, "a#1", "hi", None), (2, "a#2", None, "invalid-row")]
    assert rows[0].conversation["speaker"] is None
    assert rows[1].error.detail == "'content' holds no text parts"


def test_conversation_ids_at_the_limit_keep_message_ids_within_max_id_chars() -> None:
    # Given a conversation id of the largest allowed length and a thousand messages
    conversation_id = "c" * MAX_CONVERSATION_ID_CHARS
    rows = rows_of([{"id": conversation_id, "messages": [{"text": "hi"}] * 1000}])
    # Then it is kept, and every message id still fits MAX_ID_CHARS
    assert rows[-1].id == f"{conversation_id}#1000"
    assert max(len(r.id) for r in rows) <= MAX_ID_CHARS


def test_bad_jsonl_lines_of_conversations(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a line limit of 50 characters, and conversations JSONL with a broken line, a line past
    # the limit and a line that is an array
    monkeypatch.setattr("reviewpulse.ingest.readers.decoding.LINE_CHARS", 50)
    long_line = json.dumps({"id": "long", "turns": [{"text": "x" * 40}]})
    data = b"\n".join(
        [
            b'{"id": "a", "turns": [{"text": "x"}]}',
            b"{broken",
            long_line.encode(),
            b'[{"id": "z", "turns": [{"text": "q"}]}]',
            b'{"id": "b", "turns": [{"text": "y"}]}',
        ]
    )
    # When read with texts of at most 20 characters (so the limit stays 50)
    _, rows = read_all(data, JSONL, max_text_chars=20)
    # Then each bad line is one invalid conversation and the rest are read
    assert brief(rows) == [
        (1, "a#1", "x", None),
        (2, "conversation-2", None, "invalid-conversation"),
        (3, "conversation-3", None, "invalid-conversation"),
        (4, "conversation-4", None, "invalid-conversation"),
        (5, "b#1", "y", None),
    ]
    details = [r.error.detail for r in rows if r.error]
    assert details[0].startswith("line is not valid JSON")
    assert details[1] == f"line has {len(long_line)} characters; lines longer than 50 are not read"
    assert details[2] == "conversation is an array; expected an object"


def test_declared_conversations_that_are_plain_items_are_each_reported() -> None:
    # Given a reviews file uploaded with format "conversations"
    _, rows = read_all(json.dumps([{"text": "Great"}, "Bad"]).encode(), CONVERSATIONS)
    # Then every item is an invalid conversation, none is dropped
    assert brief(rows) == [
        (1, "conversation-1", None, "invalid-conversation"),
        (2, "conversation-2", None, "invalid-conversation"),
    ]


@pytest.mark.parametrize(
    ("data", "fmt", "code", "detail"),
    [
        (b'{"text": "a"}', JSON, "malformed-file", "a JSON file must be an array of objects or strings"),
        (b'{"data": ["a", "b"]}', JSON, "malformed-file", "a JSON file must be an array of objects or strings"),
        (b'{"data": {"messages": []}}', JSON, "malformed-file", "a JSON file must be an array of objects or strings"),
        (
            b'{\n"text": "a"}',
            CONVERSATIONS,
            "malformed-file",
            "a conversations file must be JSON Lines, an array of conversations, "
            "or an object holding that array under 'conversations' or 'data'",
        ),
        (b"42", CONVERSATIONS, "malformed-file", None),
        (b'{"conversations": []}', JSON, "empty-file", None),
        (b'{\n"data": []\n}', CONVERSATIONS, "empty-file", None),
        (b'[{"id": "a", "messages": [{"text": "x"}]}, {"id": "b", "mess', JSON, "malformed-file", None),
    ],
)
def test_unusable_conversation_files(data: bytes, fmt: FileFormat, code: str, detail: str | None) -> None:
    error = unusable(data, fmt)
    assert error.code == code
    if detail is not None:
        assert error.detail == detail


def test_a_truncated_file_reports_the_row_reached() -> None:
    # Given a conversations file cut off inside its second conversation
    data = json.dumps([chat("a", "x", "y"), chat("b", "z")]).encode()[:-20]
    stream = open_rows(io.BytesIO(data), FileSpec(JSON))
    assert [next(stream).id, next(stream).id] == ["a#1", "a#2"]
    with pytest.raises(UnusableFile) as caught:
        next(stream)
    assert (caught.value.code, caught.value.detail) == ("malformed-file", "the file is not valid JSON after row 2")


def test_every_error_code_is_documented() -> None:
    data = json.dumps([chat("a", ""), 5, {"id": "c", "messages": [7]}]).encode()
    rows = read_all(data, JSON)[1]
    assert {r.error.code for r in rows if r.error} == {"empty-text", "invalid-conversation", "invalid-row"}
    assert all(r.error is None or r.error.code in ROW_ERROR_CODES for r in rows)


def test_reading_conversations_streams() -> None:
    # Given an 8 MB JSON array of conversations produced lazily
    def pieces() -> Iterator[bytes]:
        yield b"["
        for i in range(16_000):
            body = json.dumps(chat(f"c{i}", "I love it " * 20, "That is great to hear " * 10))
            yield (b"," if i else b"") + body.encode()
        yield b"]"

    class Body:
        def __init__(self) -> None:
            self._pieces = pieces()
            self._buffer = b""

        def read(self, amt: int) -> bytes:
            while len(self._buffer) < amt and (piece := next(self._pieces, None)) is not None:
                self._buffer += piece
            out, self._buffer = self._buffer[:amt], self._buffer[amt:]
            return out

    tracemalloc.start()
    try:
        # When every row is read and chunked, as the splitter does
        count = sum(len(chunk.items) for chunk in chunk_rows(open_rows(Body(), FileSpec(JSON)), 100, 200_000))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # Then every message arrived while memory stayed far below the file's size
    assert count == 32_000
    assert peak < 4 * 1024 * 1024, f"peak traced memory {peak} bytes"


# ---- the format, as the API takes it -------------------------------------------------------


def test_the_conversations_format_is_declared_never_told_from_a_name() -> None:
    # Given a batch declared as conversations in any case
    assert _resolve_format("chats.json", "Conversations") is FileFormat.CONVERSATIONS
    # Then no file name alone gives it, and an unknown format lists it among the choices (without
    # echoing the client's value)
    assert _resolve_format("chats.json", None) is FileFormat.JSON
    with pytest.raises(UnsupportedFormat) as caught:
        _resolve_format("chats.json", "chat")
    assert "conversations" in caught.value.detail and "'chat'" not in caught.value.detail


# ---- aggregating: the rules ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("scores", "label"),
    [
        ([0.6, 0.1, -0.1], "positive"),  # mean 0.2; a single clear side is never mixed
        ([-0.6, 0.1], "negative"),  # mean -0.25
        ([0.04, -0.02, 0.0], "neutral"),  # mean 0.0067
        ([LABEL_THRESHOLD, LABEL_THRESHOLD], "positive"),  # the threshold itself counts
        ([0.5, -0.5], "mixed"),  # one clear message each way
        ([0.9, 0.8, -0.3, -0.6, 0.2], "mixed"),  # 2 clear positive, 2 clear negative
        ([0.8, 0.7, 0.6, -0.9, 0.0], "positive"),  # 3 v 1 clear: positive dominates; mean 0.24
        ([0.3, 0.3, -0.9], "negative"),  # 2 v 1: dominated; mean -0.1
        ([CLEAR_SCORE, -CLEAR_SCORE], "mixed"),  # the clear threshold itself counts
        ([0.2, -0.2], "neutral"),  # neither side is clear
    ],
)
def test_conversation_label(scores: list[float], label: str) -> None:
    assert conversation_label(scores) == label


@pytest.mark.parametrize(
    ("scores", "start", "end", "direction"),
    [
        ([0.4], 0.4, 0.4, "steady"),  # one message is both ends
        ([-0.5, 0.5], -0.5, 0.5, "improving"),  # a third of 2 is still one message
        ([0.6, -0.2, 0.4, 0.8, -0.4, 0.2], 0.2, -0.1, "worsening"),  # thirds of 2: (0.6-0.2)/2, (-0.4+0.2)/2
        ([0.0, 0.9, -0.9, 0.1], 0.0, 0.1, "improving"),  # a change of exactly STEADY_BAND is not steady
        ([0.25, 0.9, 0.3], 0.25, 0.3, "steady"),  # 0.05 < STEADY_BAND
        ([-0.5, -0.25, 0.0, 0.0, 0.25, 0.5, 0.5, 0.75, 1.0], -0.25, 0.75, "improving"),  # thirds of 3
    ],
)
def test_trajectory(scores: list[float], start: float, end: float, direction: str) -> None:
    result = trajectory(scores)
    assert (result.start_score, result.end_score, result.direction) == (
        pytest.approx(start),
        pytest.approx(end),
        direction,
    )
    assert result.change == pytest.approx(end - start)
    assert abs(result.change) >= STEADY_BAND or direction == "steady"


# ---- aggregating: the builder --------------------------------------------------------------


def message(row: int, conversation: str, turn: int, speaker: str | None, score: float | None) -> ItemResult:
    reference = {"conversation_id": conversation, "turn": turn, "speaker": speaker}
    item = WorkItem(row=row, id=f"{conversation}#{turn}" if turn else conversation, text="", conversation=reference)
    if score is None:
        return ItemResult.failed(item, "empty-text", "text is empty")
    return ItemResult(row=row, id=item.id, label="neutral", score=score, confidence=0.5, conversation=reference)


def summarise(results: list[ItemResult]) -> tuple[list[ConversationSummary], ConversationsBuilder]:
    builder = ConversationsBuilder()
    summaries = [finished for result in results if (finished := builder.add(result)) is not None]
    if (last := builder.finish()) is not None:
        summaries.append(last)
    return summaries, builder


def test_one_conversation_summarised_by_hand() -> None:
    # Given a six-message conversation, one message failed and one without a speaker
    results = [
        message(1, "c", 1, "customer", -0.6),
        message(2, "c", 2, "agent", 0.2),
        message(3, "c", 3, "customer", None),
        message(4, "c", 4, "agent", 0.4),
        message(5, "c", 5, None, 0.8),
        message(6, "c", 6, "customer", 0.5),
    ]
    # When summarised
    (summary,), builder = summarise(results)
    # Then: 5 analysed scores -0.6, 0.2, 0.4, 0.8, 0.5; mean 1.3 / 5 = 0.26
    assert (summary.conversation_id, summary.messages, summary.analysed, summary.failed) == ("c", 6, 5, 1)
    assert summary.mean_score == pytest.approx(0.26)
    # And clear messages are 3 positive (0.4, 0.8, 0.5) to 1 negative: not mixed, positive by the mean
    assert summary.label == "positive"
    # And per speaker: customer -0.6 and 0.5 (and the failed one) → 3 messages, mean -0.05;
    # agent 0.2 and 0.4 → 0.3; the speakerless message under "unknown"
    speakers = {name: (s.messages, s.mean_score) for name, s in summary.speakers.items()}
    assert speakers == {
        "customer": (3, pytest.approx(-0.05)),
        "agent": (2, pytest.approx(0.3)),
        "unknown": (1, pytest.approx(0.8)),
    }
    # And the trajectory compares the first analysed message with the last (5 // 3 = 1): -0.6 → 0.5
    assert summary.trajectory is not None
    assert (summary.trajectory.start_score, summary.trajectory.end_score) == (-0.6, 0.5)
    assert summary.trajectory.change == pytest.approx(1.1)
    assert summary.trajectory.direction == "improving"
    totals = builder.build()
    assert totals is not None
    assert totals.conversations == 1
    assert totals.labels == {"positive": 1, "negative": 0, "neutral": 0, "mixed": 0}
    assert totals.directions == {"improving": 1, "worsening": 0, "steady": 0}


def test_conversations_are_split_where_they_change() -> None:
    # Given consecutive conversations: a, then an unreadable one (turn 0), then two conversations
    # that share the id "dup" one after the other, then results without a conversation
    results = [
        message(1, "a", 1, "u", 0.5),
        message(2, "a", 2, "v", -0.5),
        message(3, "bad", 0, None, None),
        message(4, "dup", 1, "u", -0.4),
        message(5, "dup", 2, "u", -0.2),
        message(6, "dup", 1, "u", 0.0),
        ItemResult(row=7, id="7", label="positive", score=0.9, confidence=1.0),
    ]
    # When summarised
    summaries, builder = summarise(results)
    # Then there are four conversations, each closed when the next begins
    assert [(s.conversation_id, s.messages, s.analysed, s.failed, s.label) for s in summaries] == [
        ("a", 2, 2, 0, "mixed"),
        ("bad", 1, 0, 1, None),
        ("dup", 2, 2, 0, "negative"),
        ("dup", 1, 1, 0, "neutral"),
    ]
    # And the unreadable one has no speakers, score or trajectory
    assert (summaries[1].speakers, summaries[1].mean_score, summaries[1].trajectory) == ({}, None, None)
    # And the totals count every conversation, and only labelled ones by label and direction
    totals = builder.build()
    assert totals is not None
    assert totals.conversations == 4
    assert totals.labels == {"positive": 0, "negative": 1, "neutral": 1, "mixed": 1}
    assert totals.directions == {"improving": 1, "worsening": 1, "steady": 1}
    assert [s.trajectory.direction for s in summaries if s.trajectory] == ["worsening", "improving", "steady"]


def test_no_conversations_no_totals() -> None:
    # Given results of a plain file
    builder = ConversationsBuilder()
    # When fed results without conversations
    assert builder.add(ItemResult(row=1, id="1", label="positive", score=0.5, confidence=1.0)) is None
    # Then there is nothing to write and no totals
    assert builder.finish() is None
    assert builder.build() is None


def test_a_summary_line_is_json() -> None:
    (summary,), _ = summarise([message(1, "a", 1, "u", 0.5)])
    line = json.loads(summary.to_json())
    assert line == {
        "conversation_id": "a",
        "messages": 1,
        "analysed": 1,
        "failed": 0,
        "label": "positive",
        "mean_score": 0.5,
        "speakers": {"u": {"messages": 1, "mean_score": 0.5}},
        "trajectory": {"start_score": 0.5, "end_score": 0.5, "change": 0.0, "direction": "steady"},
    }


@pytest.mark.parametrize("fmt", [JSON, FileFormat.JSONL])
def test_a_file_whose_first_conversation_is_empty_is_still_read_as_conversations(fmt: FileFormat) -> None:
    # Given a file whose first conversation has no messages and whose second has an object and a string
    conversations = [
        {"conversation_id": "a", "messages": []},
        {"conversation_id": "b", "messages": [{"role": "user", "content": "I love it"}, "Thanks!"]},
    ]
    data = json.dumps(conversations).encode() if fmt is JSON else jsonl(*conversations)
    # When it is read without a declared format
    _, rows = read_all(data, fmt)
    # Then the empty one is one per-row error and the other's messages are rows of their own
    assert [(r.id, r.text, r.error.code if r.error else None) for r in rows] == [
        ("a", None, "invalid-conversation"),
        ("b#1", "I love it", None),
        ("b#2", "Thanks!", None),
    ]


@pytest.mark.parametrize(
    "records",
    [
        [{"id": 1, "text": "Great phone", "messages": []}, {"id": 2, "text": "Awful battery", "messages": []}],
        [{"id": 1, "text": "Great phone", "chat": ["seller replied"]}, {"id": 2, "text": "Awful battery"}],
    ],
    ids=["empty-messages-list", "list-of-notes"],
)
def test_a_review_record_with_a_bare_id_and_a_list_field_is_still_a_review(records: list[dict[str, Any]]) -> None:
    # Given review records that happen to carry an empty or string list under a message-list key
    # When they are read without a declared format
    rows = rows_of(records)
    # Then they are reviews: their own ids and texts, no conversation
    assert [(r.id, r.text, r.error, r.conversation) for r in rows] == [
        ("1", "Great phone", None, None),
        ("2", "Awful battery", None, None),
    ]
