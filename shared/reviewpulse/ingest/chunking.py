"""Group rows into work-queue chunks bounded by item count and encoded size."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from reviewpulse.ingest.readers import Row

_SEPARATORS = (",", ":")


@dataclass(frozen=True)
class Chunk:
    """Consecutive rows as queue items; `index` counts chunks from 0."""

    index: int
    items: list[dict[str, Any]]


def row_item(row: Row) -> dict[str, Any]:
    """The queue item for one row: its text, or its error (and where a chat message sits)."""
    item: dict[str, Any] = {"row": row.number, "id": row.id}
    if row.error is not None:
        item["error"] = {"code": row.error.code, "detail": row.error.detail}
    else:
        item["text"] = row.text
    if row.conversation is not None:
        item["conversation"] = row.conversation
    return item


def chunk_rows(rows: Iterable[Row], max_items: int, max_bytes: int) -> Iterator[Chunk]:
    """Lazily group consecutive rows into chunks of at most max_items items and max_bytes bytes.

    The byte bound is on the items' compact JSON list as UTF-8, the part of a work message that
    grows with the chunk (queues.WorkMessage.body); an item that alone exceeds it still gets a
    chunk of its own rather than being dropped.
    """
    if max_items < 1 or max_bytes < 1:
        raise ValueError("max_items and max_bytes must be positive")
    index = 0
    items: list[dict[str, Any]] = []
    size = 1  # "[" and "]", with one "," fewer than the items, add up to 1 + one byte per item
    for row in rows:
        item = row_item(row)
        item_size = len(json.dumps(item, ensure_ascii=False, separators=_SEPARATORS).encode()) + 1
        if items and (len(items) >= max_items or size + item_size > max_bytes):
            yield Chunk(index, items)
            index, items, size = index + 1, [], 1
        items.append(item)
        size += item_size
    if items:
        yield Chunk(index, items)
