"""From an object body to decoded text: sniff the encoding (and reject binary or empty files)
from the first 8 KiB, decode the rest incrementally, and read it line by line."""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Iterator
from typing import Any, Protocol

from reviewpulse.errors import UnusableFile
from reviewpulse.ingest.file_spec import FileSpec
from reviewpulse.ingest.formats import FileFormat
from reviewpulse.ingest.readers.rows import SURROGATES, Text

SNIFF_BYTES = 8192
_ZIP_MAGIC = b"PK\x03\x04"
_CLOSE_CHAOS = 0.05  # charset-normalizer's "chaos" (0..1, mess detected): within this of the best is as clean
_UTF8_BEYOND_ASCII = re.compile("[\u0080-\ud7ff\ue000-\U0010ffff]")
# Above this share of undecodable bytes in the first 8 KiB, the file is binary, not mis-encoded text.
_MAX_INVALID_SHARE = 0.3
# TXT/JSONL lines longer than this are counted, not kept, so one newline-free file stays flat.
LINE_CHARS = 4 * 1024 * 1024
BUFFER_BYTES = 64 * 1024


def line_limit(spec: FileSpec) -> int:
    """The longest TXT/JSONL line kept; longer ones are counted and reported, not read into memory."""
    return max(LINE_CHARS, 2 * spec.max_text_chars)


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


def open_text(body: Body, spec: FileSpec) -> io.TextIOWrapper:
    """`body` as text, decoded incrementally; raises UnusableFile for a binary or empty file."""
    # JSON is UTF-8 by its standard (RFC 8259); CSV and text files come in whatever their writer used.
    prefix, encoding, errors = sniff(body, detect=spec.format in (FileFormat.CSV, FileFormat.TXT))
    return io.TextIOWrapper(
        io.BufferedReader(BodyReader(body, prefix), buffer_size=BUFFER_BYTES),
        encoding=encoding,
        errors=errors,
        # CSV needs newline="" for quoted newlines; TXT/JSONL split on "\n" only, and JSON
        # needs no translation at all. Either way no "\r" or U+0085 ends a line by itself.
        newline="" if spec.format == FileFormat.CSV else "\n",
    )


class BodyReader(io.RawIOBase):
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


def sniff(body: Body, *, detect: bool = True) -> tuple[bytes, str, str]:
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
        if content.startswith(_ZIP_MAGIC):
            # .xlsx, .ods and .docx files are ZIP archives: say what to do with the likeliest one.
            detail = (
                "the file is a ZIP archive (an Excel .xlsx workbook?), not text; a workbook is read as "
                'format xlsx (told from a name ending in .xlsx), or save it as "CSV UTF-8 (Comma delimited)"'
            )
            raise UnusableFile("not-text", detail)
        if b"\x00" in content:
            raise UnusableFile("not-text", "the file contains NUL bytes; it looks binary, not text")
        # Incremental, so a character cut at the 8 KiB boundary is not counted as invalid.
        decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
        sample = decoder.decode(content, final=at_end)
        invalid = len(SURROGATES.findall(sample))
        if content and invalid / len(content) > _MAX_INVALID_SHARE:
            detail = "much of the file's start is not valid UTF-8; it looks binary, not text"
            raise UnusableFile("not-text", detail)
        encoding, errors = ("utf-8-sig" if utf8_bom else "utf-8"), "surrogateescape"
        # Undecodable bytes and no valid UTF-8 beyond ASCII: written in another encoding. (Valid
        # UTF-8 sequences beside them: a UTF-8 file with some bad rows, which stay invalid-encoding.)
        if detect and invalid and not utf8_bom and not _UTF8_BEYOND_ASCII.search(sample):
            encoding = detect_encoding(content) or encoding
    if at_end and not sample.strip():
        raise UnusableFile("empty-file", "the file is empty")
    return prefix, encoding, errors


def detect_encoding(sample: bytes) -> str | None:
    """The encoding of a start of file that is not valid UTF-8 (Windows-1252 from Excel in much of
    Europe, Shift-JIS, …), as charset-normalizer tells it (a well-kept detector, requests' own);
    None when it cannot tell. Undecodable bytes of the rest still become invalid-encoding rows.

    On a few kilobytes of accented Latin text the single-byte code pages tie (cp1250, cp1252 and
    iso8859-10 decode "é" alike and "è" differently): Windows-1252, what Excel writes in Western
    Europe and the Americas, is taken when it reads the sample about as cleanly as the best."""
    from charset_normalizer import from_bytes

    matches = from_bytes(sample)
    best = matches.best()
    if best is None or best.encoding in ("utf_8", "ascii"):
        return None
    windows = next((m for m in matches if m.encoding == "cp1252" and m.chaos <= best.chaos + _CLOSE_CHAOS), None)
    return str((windows or best).encoding)


def encoding_name(codec: str) -> str:
    """A Python codec name as people know it: cp1252 → Windows-1252, latin_1 → ISO-8859-1."""
    name = codecs.lookup(codec).name
    if name.startswith("cp125"):
        return f"Windows-{name[2:]}"
    known = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "utf-16": "UTF-16", "iso8859-1": "ISO-8859-1"}
    return known.get(name, name.upper())


def read_lines(text: Text, limit: int) -> Iterator[tuple[str | None, int]]:
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
        while (rest := text.readline(BUFFER_BYTES)) and not rest.endswith("\n"):
            length += len(rest)
        length += len(rest.removesuffix("\n").removesuffix("\r"))
        yield None, length


class Replayed:
    """A text stream that gives back `head`, already read from `rest` to look at it, then the rest."""

    def __init__(self, head: str, rest: Text) -> None:
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
