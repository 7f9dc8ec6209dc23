"""Ranged S3 reads served from moto's own storage, in front of the local stack's moto server.

moto answers a GET with a `Range` header by reading the whole object into memory and slicing it,
and then sends everything from the range's start to the end even when the client stops reading.
The results pages read a merged JSONL file from a byte offset (`bytes=N-`, then close after a
page), so on a million rows (a 113 MB file) each page cost the emulator the whole file, twice,
in memory: paging slowed with the file and the stack's memory grew with it. Real S3 streams a
range and stops when the client closes.

This WSGI layer asks moto the same request as a HEAD first, so that moto decides everything it
decides for a GET (the key, its version, conditional headers, permissions, the range against
the size, the response headers); only when moto answers 206 are the bytes streamed here, in
pieces, from the object moto stores (its spooled file). Any other answer (404, 412, 416, a
multi-range, a versioned or presigned request) is moto's own GET. Developer-only: never shipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

from reviewpulse_cli.local_state import LOCAL_ACCOUNT

PIECE = 256 * 1024
# Below this size moto's own GET costs nothing worth avoiding.
SMALLEST = 1024 * 1024
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")


def _stored_key(bucket: str, key: str) -> Any:
    """moto's object (FakeKey), or None."""
    from moto.s3.models import s3_backends

    backend = s3_backends[LOCAL_ACCOUNT]["aws"]
    found = backend.buckets.get(bucket)
    return found.keys.get(key) if found is not None else None


class RangedReads:
    """WSGI middleware: a single-range GET of a large stored object, streamed from storage."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if (
            environ.get("REQUEST_METHOD") != "GET"
            or not environ.get("HTTP_RANGE")
            or environ.get("QUERY_STRING")
            or "," in environ["HTTP_RANGE"]
        ):
            return self.app(environ, start_response)
        path = unquote(environ.get("RAW_URI", environ.get("PATH_INFO", "")).split("?", 1)[0])
        bucket, _, key = path.lstrip("/").partition("/")
        stored = _stored_key(bucket, key) if key else None
        if stored is None or stored.size < SMALLEST:
            return self.app(environ, start_response)
        answer: dict[str, Any] = {}

        def keep(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answer.update(status=status, headers=headers)
            return lambda data: None

        for _ in self.app({**environ, "REQUEST_METHOD": "HEAD"}, keep):
            pass
        headers = answer.get("headers", [])
        content_range = next((v for k, v in headers if k.lower() == "content-range"), "")
        matched = _CONTENT_RANGE.fullmatch(content_range)
        if not str(answer.get("status", "")).startswith("206") or matched is None:
            return self.app(environ, start_response)
        begin, end, total = (int(g) for g in matched.groups())
        if total != stored.size:
            return self.app(environ, start_response)  # replaced between the HEAD and now
        start_response(answer["status"], headers)
        return _pieces(stored, begin, end)


def _pieces(stored: Any, begin: int, end: int) -> Iterator[bytes]:
    position = begin
    while position <= end:
        # moto's buffer is one file shared by every reader: seek and read under its lock.
        with stored.lock:
            buffer = stored._value_buffer
            buffer.seek(position)
            piece = buffer.read(min(PIECE, end + 1 - position))
        if not piece:
            return
        position += len(piece)
        yield piece
