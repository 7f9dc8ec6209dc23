"""Tamper-evident pagination cursors.

A cursor is URL-safe base64 of: a version byte, an HMAC-SHA256 tag and the position (compact
JSON). The tag covers the version, the caller's tenant, the listing the cursor continues (a
task's results, or a task list with its filters) and the position, under a per-deployment secret.
Tenant and listing are not stored in the cursor: the verifier supplies its own, so a cursor
replayed by another tenant or on another listing fails the tag check like a forged one. Only a
position that passed the check is ever parsed. Anything else is `invalid-cursor`.

Hand-written on the standard library (hmac, hashlib): a token library would bring a dependency
and a header format for what is one MAC over four fields.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from reviewpulse.errors import InvalidCursor

MAX_CURSOR_CHARS = 2048
VERSION = 1
_TAG_BYTES = hashlib.sha256().digest_size
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
_NOT_OURS = "the cursor is not one this API returned for this listing"


class CursorSigner:
    """Issues and opens cursors. `key` returns the signing key; it is called only when a cursor is
    issued or opened, so listings that never page never fetch it."""

    def __init__(
        self,
        key: Callable[[], bytes],
        *,
        previous: Callable[[], Sequence[bytes]] = tuple,
        reload: Callable[[], bool] | None = None,
    ) -> None:
        # `previous`: keys a rotation replaced that still open cursors (their overlap not over);
        # `reload`: re-read the keys when no key opens a cursor (another environment may already
        # sign with a key this one has not fetched yet); True if it re-read them.
        self._key = key
        self._previous = previous
        self._reload = reload

    def issue(self, *, tenant: str, listing: str, position: Any) -> str:
        body = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
        token = bytes([VERSION]) + self._tag(VERSION, tenant, listing, body) + body
        return base64.urlsafe_b64encode(token).decode().rstrip("=")

    def open(self, cursor: str, *, tenant: str, listing: str) -> Any:
        """The position a cursor issued for this tenant and listing holds; InvalidCursor otherwise."""
        if not isinstance(cursor, str) or len(cursor) > MAX_CURSOR_CHARS or not _BASE64URL.fullmatch(cursor):
            raise InvalidCursor(_NOT_OURS)
        try:
            token = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (binascii.Error, ValueError):
            raise InvalidCursor(_NOT_OURS) from None
        if len(token) <= 1 + _TAG_BYTES or token[0] != VERSION:
            raise InvalidCursor(_NOT_OURS)
        tag, body = token[1 : 1 + _TAG_BYTES], token[1 + _TAG_BYTES :]
        if not self._signed_by_a_key(tag, tenant, listing, body):
            if self._reload is None or not self._reload() or not self._signed_by_a_key(tag, tenant, listing, body):
                raise InvalidCursor(_NOT_OURS)
        try:
            return json.loads(body)
        except ValueError:  # only a key leak could get here; still never a 500
            raise InvalidCursor(_NOT_OURS) from None

    def _signed_by_a_key(self, tag: bytes, tenant: str, listing: str, body: bytes) -> bool:
        keys = (self._key(), *self._previous())
        return any(hmac.compare_digest(tag, self._tag(VERSION, tenant, listing, body, key)) for key in keys)

    def _tag(self, version: int, tenant: str, listing: str, body: bytes, key: bytes | None = None) -> bytes:
        # JSON framing keeps the fields apart: no tenant/listing pair can spell another one.
        message = json.dumps([version, tenant, listing]).encode() + b"\n" + body
        return hmac.new(key if key is not None else self._key(), message, hashlib.sha256).digest()
