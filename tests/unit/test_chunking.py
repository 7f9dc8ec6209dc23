"""Chunking rows into work-queue messages."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator

import pytest
from reviewpulse.ingest.chunking import Chunk, chunk_rows
from reviewpulse.ingest.readers import Row, RowError
from reviewpulse.queues import WorkMessage


def ok_row(number: int, text: str = "fine") -> Row:
    return Row(number, f"id-{number}", text, None, {"text": text})


def error_row(number: int) -> Row:
    return Row(number, str(number), None, RowError("empty-text", "text is empty"), {"text": ""})


def body_size(chunk: Chunk) -> int:
    """The bytes the chunk's items take in the work message actually sent (the envelope of tenant,
    task and chunk number aside, which does not grow with the chunk)."""

    def sent(items: list) -> int:
        return len(WorkMessage(tenant="acme", task_id="0" * 28, chunk=chunk.index, items=items).body().encode())

    return sent(chunk.items) - sent([]) + len("[]")


def rows_of(chunk: Chunk) -> tuple[int, int]:
    return chunk.items[0]["row"], chunk.items[-1]["row"]


def test_items_for_usable_and_error_rows() -> None:
    # Given a usable row and an error row
    chunks = list(chunk_rows([ok_row(1, "héllo"), error_row(2)], max_items=10, max_bytes=10_000))
    # Then one chunk holds both, as text and error items
    assert chunks == [
        Chunk(
            index=0,
            items=[
                {"row": 1, "id": "id-1", "text": "héllo"},
                {"row": 2, "id": "2", "error": {"code": "empty-text", "detail": "text is empty"}},
            ],
        )
    ]


def test_counts_and_order_preserved_with_max_items() -> None:
    # Given 25 rows and at most 10 items per chunk
    rows = [ok_row(n) if n % 3 else error_row(n) for n in range(1, 26)]
    chunks = list(chunk_rows(rows, max_items=10, max_bytes=100_000))
    # Then chunks are 10, 10, 5 items, indexed from 0, covering every row once and in order
    assert [len(c.items) for c in chunks] == [10, 10, 5]
    assert [c.index for c in chunks] == [0, 1, 2]
    assert [rows_of(c) for c in chunks] == [(1, 10), (11, 20), (21, 25)]
    assert [item["row"] for c in chunks for item in c.items] == list(range(1, 26))


def test_max_bytes_is_honoured_exactly() -> None:
    # Given rows of varying sizes and a tight byte budget
    rows = [ok_row(n, "x" * (n * 37 % 300)) for n in range(1, 200)]
    max_bytes = 1_000
    chunks = list(chunk_rows(rows, max_items=100, max_bytes=max_bytes))
    # Then every encoded body fits, no chunk could have taken the next row, and nothing is lost
    assert all(body_size(c) <= max_bytes for c in chunks)
    for chunk, following in itertools.pairwise(chunks):
        assert body_size(Chunk(0, [*chunk.items, following.items[0]])) > max_bytes
    assert [item["row"] for c in chunks for item in c.items] == list(range(1, 200))


def test_bytes_count_utf8_not_characters() -> None:
    # Given multi-byte text: 100 characters of 3 bytes each per row
    rows = [ok_row(n, "語" * 100) for n in range(1, 11)]
    chunks = list(chunk_rows(rows, max_items=100, max_bytes=1_000))
    # Then the budget counts UTF-8 bytes: 3 rows of ~330 bytes fit, not the 7 that
    # counting characters would allow
    assert all(body_size(c) <= 1_000 for c in chunks)
    assert [len(c.items) for c in chunks] == [3, 3, 3, 1]


def test_oversize_item_goes_alone() -> None:
    # Given a row larger than max_bytes between small rows
    rows = [ok_row(1), ok_row(2, "y" * 5_000), ok_row(3)]
    chunks = list(chunk_rows(rows, max_items=10, max_bytes=1_000))
    # Then it gets a chunk of its own and is not dropped
    assert [[item["row"] for item in c.items] for c in chunks] == [[1], [2], [3]]


def test_chunking_is_lazy() -> None:
    # Given an infinite stream of rows
    def endless() -> Iterator[Row]:
        for n in itertools.count(1):
            yield ok_row(n)

    # When only the first chunks are taken
    first = list(itertools.islice(chunk_rows(endless(), max_items=50, max_bytes=100_000), 3))
    # Then they arrive without consuming the whole stream
    assert [(c.index, *rows_of(c)) for c in first] == [(0, 1, 50), (1, 51, 100), (2, 101, 150)]


def test_no_rows_no_chunks() -> None:
    assert list(chunk_rows([], max_items=10, max_bytes=1_000)) == []


@pytest.mark.parametrize(("max_items", "max_bytes"), [(0, 1_000), (10, 0)])
def test_bounds_must_be_positive(max_items: int, max_bytes: int) -> None:
    with pytest.raises(ValueError):
        list(chunk_rows([ok_row(1)], max_items=max_items, max_bytes=max_bytes))


def test_the_work_message_body_is_compact_and_keeps_text() -> None:
    # Given items with non-ASCII text / When sent as a work message / Then compact, with the text as written
    items = [{"row": 1, "id": "a", "text": "crème 👍"}, {"row": 2, "id": "2", "error": {"code": "x", "detail": "y"}}]
    body = WorkMessage(tenant="acme", task_id="0" * 28, chunk=0, items=items).body()
    assert ", " not in body and ": " not in body and "crème 👍" in body
    assert json.loads(body)["items"] == items
