"""Opaque pagination cursors: URL-safe base64 of a small JSON object.

Cursors are not secrets: every decoder checks that what it gets back has exactly the shape it
expects and belongs to the caller's own listing, and anything else is `invalid-cursor`.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from reviewpulse.errors import InvalidCursor

MAX_CURSOR_CHARS = 2048


def encode_cursor(values: dict[str, Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    # Empty: this API never gives an empty cursor (the last page has none), and reading it as "from
    # the start" would loop a client that sends its empty next_cursor back for ever.
    if not cursor or len(cursor) > MAX_CURSOR_CHARS:
        raise InvalidCursor("the cursor is not one this API returned")
    try:
        values = json.loads(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidCursor("the cursor is not one this API returned") from None
    if not isinstance(values, dict):
        raise InvalidCursor("the cursor is not one this API returned")
    return values
