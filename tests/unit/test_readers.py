"""Streaming readers: every format, encodings, per-row errors, file errors and flat memory."""

from __future__ import annotations

import codecs
import io
import json
import sys
import tracemalloc
from collections.abc import Iterator

import pytest
from reviewpulse.errors import FILE_ERROR_CODES, ROW_ERROR_CODES, UnusableFile
from reviewpulse.ingest.chunking import row_item
from reviewpulse.ingest.file_spec import FileSpec
from reviewpulse.ingest.formats import FileFormat
from reviewpulse.ingest.readers import MAX_ID_CHARS, Row, RowStream, open_rows
from reviewpulse.queues import WorkMessage

SECRET = "s3cr3t-customer-words"


class ShortReadBody:
    """A StreamingBody stand-in: only read(n), returning at most `step` bytes per call."""

    def __init__(self, data: bytes, step: int = 7) -> None:
        self._data = io.BytesIO(data)
        self._step = step

    def read(self, amt: int) -> bytes:
        assert amt is not None and amt > 0, "readers must never ask for the whole body"
        return self._data.read(min(amt, self._step))


class GeneratedBody:
    """A body produced lazily from byte pieces; records how it was read."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self._pieces = pieces
        self._buffer = b""
        self.served = 0
        self.max_requested = 0
        self.max_returned = 0

    def read(self, amt: int) -> bytes:
        assert amt is not None and amt > 0, "readers must never ask for the whole body"
        self.max_requested = max(self.max_requested, amt)
        while len(self._buffer) < amt and (piece := next(self._pieces, None)) is not None:
            self._buffer += piece
        out, self._buffer = self._buffer[:amt], self._buffer[amt:]
        self.max_returned = max(self.max_returned, len(out))
        self.served += len(out)
        return out


def read_all(data: bytes, fmt: FileFormat, **spec: object) -> tuple[RowStream, list[Row]]:
    stream = open_rows(io.BytesIO(data), FileSpec(fmt, **spec))  # type: ignore[arg-type]
    return stream, list(stream)


def unusable(data: bytes, fmt: FileFormat, **spec: object) -> UnusableFile:
    with pytest.raises(UnusableFile) as caught:
        read_all(data, fmt, **spec)
    assert caught.value.code in FILE_ERROR_CODES
    return caught.value


def summary(rows: list[Row]) -> list[tuple[int, str, str | None, str | None]]:
    return [(r.number, r.id, r.text, r.error.code if r.error else None) for r in rows]


# ---- formats -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("reviews.csv", FileFormat.CSV),
        ("REVIEWS.CSV", FileFormat.CSV),
        ("a.b.Json", FileFormat.JSON),
        ("x.jsonl", FileFormat.JSONL),
        ("x.NDJSON", FileFormat.JSONL),
        ("notes.txt", FileFormat.TXT),
        ("sheet.xlsx", FileFormat.XLSX),
        ("Sheet.XLSX", FileFormat.XLSX),
        ("old.xls", None),
        ("csv", None),
        ("", None),
    ],
)
def test_format_from_filename(name: str, expected: FileFormat | None) -> None:
    # Given a file name / When its format is looked up / Then the extension decides, ignoring case
    assert FileFormat.from_filename(name) == expected


def test_file_spec_defaults() -> None:
    # Given only a format / Then no fields are named and the text limit is 5000
    spec = FileSpec(FileFormat.TXT)
    assert (spec.text_field, spec.id_field, spec.max_text_chars) == (None, None, 5000)


# ---- CSV -----------------------------------------------------------------------------------


def test_csv_happy_path() -> None:
    # Given a CSV with an id column and a detectable review column
    data = b"id,Review,stars\r\nr1,Great product,5\r\nr2,  Meh  ,3\r\n"
    # When it is read with id_field
    stream, rows = read_all(data, FileFormat.CSV, id_field="id")
    # Then every row keeps its number, id, stripped text and its own columns in input order
    assert stream.columns == ["id", "Review", "stars"]
    assert stream.text_field == "Review"
    assert rows == [
        Row(1, "r1", "Great product", None, {"id": "r1", "Review": "Great product", "stars": "5"}),
        Row(2, "r2", "Meh", None, {"id": "r2", "Review": "  Meh  ", "stars": "3"}),
    ]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("id,stars, Review_Body ", " Review_Body "),
        ("title,COMMENTS,text", "COMMENTS"),  # the first candidate in header order wins
        ("opinion", "opinion"),  # a single column is the text whatever its name
    ],
)
def test_csv_detects_text_column(header: str, expected: str) -> None:
    # Given a header without an explicit text_field
    values = ",".join(["hello"] * len(header.split(",")))
    stream, rows = read_all(f"{header}\n{values}\n".encode(), FileFormat.CSV)
    # Then the text column is detected
    assert stream.text_field == expected
    assert rows[0].text == "hello"


def test_csv_explicit_text_field_and_id_fallback() -> None:
    # Given an explicit text_field naming a non-candidate column (in another case) and an id
    # column that is empty on one row
    data = b"id,text,opinion\n7,ignored,good\n,ignored,bad\n"
    stream, rows = read_all(data, FileFormat.CSV, text_field="OPINION", id_field="id")
    # Then that column is used and the empty id falls back to the row number
    assert stream.text_field == "opinion"
    assert summary(rows) == [(1, "7", "good", None), (2, "2", "bad", None)]


def test_csv_missing_text_field_is_a_file_error() -> None:
    # Given a text_field the header does not have
    error = unusable(b"id,body\n1,x\n", FileFormat.CSV, text_field="review")
    # Then the file is unusable and the detail lists the header
    assert error.code == "text-column-not-found"
    assert "'id'" in error.detail and "'body'" in error.detail


def test_csv_without_detectable_text_column() -> None:
    # Given several columns, none a known text name
    error = unusable(b"a,b\n1,2\n", FileFormat.CSV)
    assert error.code == "text-column-not-found"
    assert "'a', 'b'" in error.detail


def test_csv_ragged_row_is_a_row_error() -> None:
    # Given a row with too few fields and one with too many
    data = b"id,text\n1,fine\n2\n3,x,extra\n4,also fine\n"
    _, rows = read_all(data, FileFormat.CSV, id_field="id")
    # Then both become invalid-row with columns padded/limited to the header, and reading goes on
    assert summary(rows) == [
        (1, "1", "fine", None),
        (2, "2", None, "invalid-row"),
        (3, "3", None, "invalid-row"),
        (4, "4", "also fine", None),
    ]
    assert rows[1].columns == {"id": "2", "text": ""}
    assert rows[2].columns == {"id": "3", "text": "x"}
    assert rows[2].error is not None and rows[2].error.detail == "row has 3 fields; the header has 2"


def test_csv_quoted_newlines_and_blank_lines() -> None:
    # Given quoted fields with newlines, an interior blank line and trailing blank lines
    data = b'text,n\n"line one\nline two",1\n\n"a ""quote""\r\nhere",2\n\n\n'
    _, rows = read_all(data, FileFormat.CSV)
    # Then quoted newlines stay inside the text, the interior blank line is an empty-text row,
    # and the trailing ones make no rows
    assert summary(rows) == [
        (1, "1", "line one\nline two", None),
        (2, "2", None, "empty-text"),
        (3, "3", 'a "quote"\r\nhere', None),
    ]
    assert rows[1].columns == {"text": "", "n": ""}


def test_csv_utf8_bom_is_not_part_of_the_header() -> None:
    # Given a UTF-8 CSV starting with a BOM
    stream, rows = read_all(codecs.BOM_UTF8 + "text\ncafé\n".encode(), FileFormat.CSV)
    # Then the first header name is "text", not "\ufefftext"
    assert stream.columns == ["text"]
    assert rows[0].text == "café"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be-bom"])
def test_csv_utf16_with_bom(encoding: str) -> None:
    # Given a UTF-16 CSV (little or big endian, with its BOM)
    content = "id,review\n1,naïve café 👍\n2,ok\n"
    data = content.encode("utf-16") if encoding == "utf-16" else codecs.BOM_UTF16_BE + content.encode("utf-16-be")
    # When read through a body that returns a few bytes at a time
    stream = open_rows(ShortReadBody(data), FileSpec(FileFormat.CSV, id_field="id"))
    # Then it decodes correctly
    assert summary(list(stream)) == [(1, "1", "naïve café 👍", None), (2, "2", "ok", None)]


def test_a_windows_1252_file_is_read_in_its_encoding_and_says_so() -> None:
    # Given what Excel writes in much of Europe: semicolons, Windows-1252, € and accents
    lines = ["id;review;city"] + [f"{i};Très bon, livré à temps, 3,50 € qualité;Besançon" for i in range(300)]
    data = ("\r\n".join(lines) + "\r\n").encode("cp1252")
    # When it is read
    stream = open_rows(io.BytesIO(data), FileSpec(FileFormat.CSV, id_field="id"))
    rows = list(stream)
    # Then every row is read whole, in the encoding told from the file, which the stream names
    assert len(rows) == 300 and not [row for row in rows if row.error]
    assert rows[0].text == "Très bon, livré à temps, 3,50 € qualité" and rows[0].columns["city"] == "Besançon"
    assert (stream.encoding, stream.delimiter) == ("Windows-1252", ";")


def test_an_xlsx_workbook_is_refused_with_what_to_do() -> None:
    with pytest.raises(UnusableFile) as refused:
        open_rows(io.BytesIO(b"PK\x03\x04" + bytes(200)), FileSpec(FileFormat.CSV))
    assert refused.value.code == "not-text" and "CSV UTF-8" in refused.value.detail


def test_multibyte_characters_split_across_reads() -> None:
    # Given UTF-8 text whose multi-byte characters straddle every read boundary
    data = b"text\n" + "日本語のレビュー 👍🏽 é\n".encode() * 50
    _, rows = read_all(data, FileFormat.CSV)
    stream = open_rows(ShortReadBody(data, step=3), FileSpec(FileFormat.CSV))
    # Then no row is mistaken for invalid encoding
    assert [r.text for r in stream] == [r.text for r in rows] == ["日本語のレビュー 👍🏽 é"] * 50


def test_latin1_bytes_make_only_that_row_invalid() -> None:
    # Given a UTF-8 CSV (its first row holds UTF-8 beyond ASCII) where one row was written in Latin-1
    data = b"id,text\n1,good \xc3\xa9\n2,caf\xe9 cr\xe8me " + SECRET.encode() + b"\n3,fine\n"
    stream = open_rows(io.BytesIO(data), FileSpec(FileFormat.CSV, id_field="id"))
    rows = list(stream)
    # Then only that row is invalid-encoding, and its columns no longer carry undecodable characters
    assert summary(rows) == [(1, "1", "good é", None), (2, "2", None, "invalid-encoding"), (3, "3", "fine", None)]
    # And its error names the encoding the file was read in and how to save it
    assert stream.encoding == "UTF-8" and "not valid UTF-8" in rows[1].error.detail
    assert "CSV UTF-8" in rows[1].error.detail
    assert rows[1].columns["text"] == f"caf\ufffd cr\ufffdme {SECRET}"
    assert rows[1].error is not None and SECRET not in rows[1].error.detail
    rows[1].columns["text"].encode("utf-8")  # safe to write out


def test_invalid_byte_in_a_non_text_column_is_cleaned_not_an_error() -> None:
    # Given an invalid byte in another column of a UTF-8 file (its last row: UTF-8 beyond ASCII)
    _, rows = read_all(b"name,text\nJos\xe9,great\nRen\xc3\xa9,fine\n", FileFormat.CSV)
    # Then the row is usable and the column is replaced with U+FFFD
    assert rows[0].text == "great"
    assert rows[0].columns == {"name": "Jos\ufffd", "text": "great"}


def test_csv_field_of_10_mb_is_text_too_long() -> None:
    # Given a CSV with one 10 MB field
    data = b'text\n"' + b"x" * (10 * 1024 * 1024) + b'"\nshort\n'
    _, rows = read_all(data, FileFormat.CSV)
    # Then that row is text-too-long and the next row still reads
    assert summary(rows) == [(1, "1", None, "text-too-long"), (2, "2", "short", None)]
    assert rows[0].error is not None
    assert rows[0].error.detail == "text has 10485760 characters; the maximum is 5000"


def test_csv_id_longer_than_the_maximum_is_a_row_error() -> None:
    # Given a CSV whose second row has a 300-character id (customer text) and whose third has
    # an id of exactly the maximum
    long_id = (SECRET + "x" * 300)[:300]
    at_limit = "y" * MAX_ID_CHARS
    data = f"id,text\nr1,good\n{long_id},fine words\n{at_limit},ok\n".encode()
    # When it is read with id_field
    _, rows = read_all(data, FileFormat.CSV, id_field="id")
    # Then only the too-long id's row is invalid-row, its id falls back to the row number,
    # the detail gives the lengths without quoting the id, and its columns are kept
    assert MAX_ID_CHARS == 256
    assert summary(rows) == [(1, "r1", "good", None), (2, "2", None, "invalid-row"), (3, at_limit, "ok", None)]
    assert rows[1].error is not None
    assert rows[1].error.detail == "the id has 300 characters; the maximum is 256"
    assert rows[1].columns == {"id": long_id, "text": "fine words"}


def test_csv_megabyte_id_is_a_row_error() -> None:
    # Given an id of several megabytes
    data = b'id,text\n"' + b"9" * (3 * 1024 * 1024) + b'",words\n2,next\n'
    _, rows = read_all(data, FileFormat.CSV, id_field="id")
    # Then the row is invalid-row with a short id, and the next row reads
    assert summary(rows) == [(1, "1", None, "invalid-row"), (2, "2", "next", None)]
    assert rows[0].error is not None and rows[0].error.detail == "the id has 3145728 characters; the maximum is 256"
    # And its queue item stays small enough to chunk
    assert len(WorkMessage(tenant="acme", task_id="0" * 28, chunk=0, items=[row_item(rows[0])]).body()) < 300


def test_csv_id_padded_with_spaces_is_measured_stripped() -> None:
    # Given an id that is short once the surrounding spaces are stripped
    data = ("id,text\n" + " " * 300 + "r1 ,good\n").encode()
    _, rows = read_all(data, FileFormat.CSV, id_field="id")
    # Then it is the (stripped) id the row is stored under, so it is within the limit
    assert summary(rows) == [(1, "r1", "good", None)]


def test_csv_missing_id_field_is_a_file_error() -> None:
    # Given an id_field the header does not have
    error = unusable(b"ref,text\n1,x\n", FileFormat.CSV, id_field="sku")
    # Then the file is unusable, like a missing text column, and the detail lists the header
    assert error.code == "id-column-not-found"
    assert error.detail == "the header has no 'sku'; it has: 'ref', 'text'"


def test_csv_id_field_matches_ignoring_case_and_spaces() -> None:
    # Given an id_field that matches a header name only when case and spaces are ignored
    stream, rows = read_all(b" SKU ,text\nA1,x\n", FileFormat.CSV, id_field="sku")
    # Then that column holds the ids
    assert summary(rows) == [(1, "A1", "x", None)]
    assert stream.columns == [" SKU ", "text"]


def test_csv_id_field_prefers_an_exact_match() -> None:
    # Given two header names equal ignoring case, one matching id_field exactly
    _, rows = read_all(b"ID,id,text\nupper,lower,x\n", FileFormat.CSV, id_field="id")
    # Then the exact match is used
    assert rows[0].id == "lower"


def test_csv_repeated_header_names_keep_every_column() -> None:
    # Given a header repeating "tag" three times
    data = b"review,tag,tag,stars,tag\ngreat,a,b,5,c\n"
    # When it is read
    stream, rows = read_all(data, FileFormat.CSV)
    # Then later repeats get suffixes, in order, and every value survives under its own name
    assert stream.columns == ["review", "tag", "tag_2", "stars", "tag_3"]
    assert rows[0].columns == {"review": "great", "tag": "a", "tag_2": "b", "stars": "5", "tag_3": "c"}
    assert rows[0].text == "great"


def test_csv_repeated_header_suffixes_skip_existing_names() -> None:
    # Given a header that already has a "tag_2" column after a repeated "tag"
    data = b"text,tag,tag,tag_2,tag\nx,a,b,c,d\n"
    stream, rows = read_all(data, FileFormat.CSV)
    # Then the repeats skip the taken suffix and no name collides
    assert stream.columns == ["text", "tag", "tag_3", "tag_2", "tag_4"]
    assert rows[0].columns == {"text": "x", "tag": "a", "tag_3": "b", "tag_2": "c", "tag_4": "d"}


def test_csv_repeated_text_and_id_columns_use_the_first() -> None:
    # Given repeated text and id columns, named explicitly
    data = b"id,text,id,text\nfirst-id,first text,second-id,second text\n"
    stream, rows = read_all(data, FileFormat.CSV, text_field="text", id_field="id")
    # Then the first occurrence of each is used, and the repeats are kept as columns
    assert stream.text_field == "text"
    assert stream.columns == ["id", "text", "id_2", "text_2"]
    assert summary(rows) == [(1, "first-id", "first text", None)]
    assert rows[0].columns["text_2"] == "second text"


def test_csv_repeated_header_names_in_blank_and_ragged_rows() -> None:
    # Given a repeated name with an interior blank line and a short row
    data = b"text,tag,tag\nok,a,b\n\nshort\n"
    _, rows = read_all(data, FileFormat.CSV)
    # Then those rows' columns use the unique names too
    assert summary(rows) == [(1, "1", "ok", None), (2, "2", None, "empty-text"), (3, "3", None, "invalid-row")]
    assert rows[1].columns == {"text": "", "tag": "", "tag_2": ""}
    assert rows[2].columns == {"text": "short", "tag": "", "tag_2": ""}


# ---- file-level errors ---------------------------------------------------------------------


@pytest.mark.parametrize("fmt", list(FileFormat))
@pytest.mark.parametrize("data", [b"", b"  \r\n\t\n", codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF8 + b"\n\n"])
def test_empty_body_is_empty_file(fmt: FileFormat, data: bytes) -> None:
    # Given no bytes, or only whitespace or a BOM / Then the file is empty whatever its format
    assert unusable(data, fmt).code == "empty-file"


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (b"id,text\n", FileFormat.CSV),
        (b"id,text\r\n\r\n\r\n", FileFormat.CSV),
        (b"a,b\n", FileFormat.CSV),  # no data matters more than an undetectable column
        (b"[]", FileFormat.JSON),
        (b" [ \n ] \n", FileFormat.JSON),
    ],
)
def test_no_data_rows_is_empty_file(data: bytes, fmt: FileFormat) -> None:
    # Given a header alone or an empty array / Then the file is empty
    assert unusable(data, fmt).code == "empty-file"


@pytest.mark.parametrize("fmt", [f for f in FileFormat if f is not FileFormat.XLSX])  # test_xlsx: not a workbook
def test_nul_bytes_are_not_text(fmt: FileFormat) -> None:
    # Given binary content with NUL bytes (e.g. a spreadsheet renamed to .csv)
    data = b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)) * 4
    # Then it is rejected as not text
    assert unusable(data, fmt).code == "not-text"


def test_mostly_invalid_utf8_is_not_text() -> None:
    # Given bytes without NULs that are mostly not UTF-8
    data = bytes(range(0x80, 0x100)) * 40
    assert unusable(data, FileFormat.TXT).code == "not-text"


def test_unsupported_format_value() -> None:
    # Given a spec whose format is not one of the four
    error = unusable(b"x\n", "xml")  # type: ignore[arg-type]
    assert error.code == "unsupported-format"


# ---- JSON ----------------------------------------------------------------------------------


def test_json_objects_happy_path() -> None:
    # Given an array of objects with scalar, null, boolean and nested values
    data = json.dumps(
        [
            {"id": "a", "review": "Lovely", "stars": 5, "price": 1.50, "ok": True, "meta": {"k": [1, 2.5]}},
            {"id": None, "review": " Awful ", "extra": None},
        ]
    ).encode()
    stream, rows = read_all(data.replace(b"1.5", b"1.50"), FileFormat.JSON, id_field="id")
    # Then rows keep ids (falling back to the number), text, and columns rendered as strings
    assert stream.text_field == "review"
    assert stream.columns == ["id", "review", "stars", "price", "ok", "meta", "extra"]
    assert rows == [
        Row(
            1,
            "a",
            "Lovely",
            None,
            {"id": "a", "review": "Lovely", "stars": "5", "price": "1.50", "ok": "true", "meta": '{"k":[1,2.5]}'},
        ),
        Row(2, "2", "Awful", None, {"id": "", "review": " Awful ", "extra": ""}),
    ]


def test_json_array_of_strings() -> None:
    # Given an array of strings
    stream, rows = read_all(b'["one", "two", ""]', FileFormat.JSON)
    # Then each string is a row's text, under the column "text"
    assert (stream.columns, stream.text_field) == (["text"], "text")
    assert summary(rows) == [(1, "1", "one", None), (2, "2", "two", None), (3, "3", None, "empty-text")]
    assert rows[0].columns == {"text": "one"}


@pytest.mark.parametrize("data", [b'{"text": "a"}', b"42", b'"just a string"'])
def test_json_top_level_not_an_array(data: bytes) -> None:
    # Given JSON whose top level is not an array
    error = unusable(data, FileFormat.JSON)
    # Then the file is malformed
    assert (error.code, error.detail) == ("malformed-file", "a JSON file must be an array of objects or strings")


def test_json_truncated_part_way() -> None:
    # Given a JSON array cut off in its third item
    data = b'[{"text": "one"}, {"text": "two"}, {"text": "thr'
    stream = open_rows(io.BytesIO(data), FileSpec(FileFormat.JSON))
    # When iterated, the first rows arrive, then the file error with the row reached
    assert next(stream).text == "one"
    assert next(stream).text == "two"
    with pytest.raises(UnusableFile) as caught:
        next(stream)
    assert caught.value.code == "malformed-file"
    assert "after row 2" in caught.value.detail
    assert "thr" not in caught.value.detail


def test_json_items_of_wrong_type_are_row_errors() -> None:
    # Given items that are not objects or strings, an object lacking the text key,
    # and one whose text is not a string
    data = b'[{"text": "ok"}, 3, null, [1], true, {"other": 1}, {"text": 5}, "fine"]'
    stream, rows = read_all(data, FileFormat.JSON)
    # Then each becomes invalid-row and reading continues
    assert summary(rows) == [
        (1, "1", "ok", None),
        (2, "2", None, "invalid-row"),
        (3, "3", None, "invalid-row"),
        (4, "4", None, "invalid-row"),
        (5, "5", None, "invalid-row"),
        (6, "6", None, "invalid-row"),
        (7, "7", None, "invalid-row"),
        (8, "8", "fine", None),
    ]
    details = [r.error.detail for r in rows if r.error]
    assert details[0] == "item is a number; expected an object or a string"
    assert details[4] == "object has no 'text' key"
    assert details[5] == "'text' is a number, not a string"
    assert stream.columns == ["text", "other"]


def test_json_text_key_is_fixed_by_the_first_object() -> None:
    # Given a first object with "comment" and a later object with only "text"
    stream, rows = read_all(b'[{"Comment": "a"}, {"text": "b"}]', FileFormat.JSON)
    # Then "Comment" stays the text key, so the later object is invalid
    assert stream.text_field == "Comment"
    assert summary(rows) == [(1, "1", "a", None), (2, "2", None, "invalid-row")]


def test_json_first_object_without_text_key() -> None:
    # Given objects with no candidate key / Then the text column is not found
    error = unusable(b'[{"a": "x", "b": "y"}]', FileFormat.JSON)
    assert error.code == "text-column-not-found"
    assert "'a', 'b'" in error.detail


def test_json_explicit_text_field() -> None:
    # Given a text_field naming a key
    stream, rows = read_all(b'[{"text": "no", "opinion": "yes"}]', FileFormat.JSON, text_field="opinion")
    assert (stream.text_field, rows[0].text) == ("opinion", "yes")


@pytest.mark.parametrize("encode", [lambda s: codecs.BOM_UTF8 + s.encode(), lambda s: s.encode("utf-16")])
def test_json_with_bom(encode: object) -> None:
    # Given a JSON file with a UTF-8 BOM or in UTF-16
    data = encode('[{"text": "crème brûlée 🍮"}]')  # type: ignore[operator]
    # Then it parses like plain UTF-8
    _, rows = read_all(data, FileFormat.JSON)
    assert rows[0].text == "crème brûlée 🍮"


def test_json_invalid_byte_makes_only_that_row_invalid() -> None:
    # Given a JSON array where one string holds a Latin-1 byte
    _, rows = read_all(b'[{"text": "caf\xe9", "n": 1}, {"text": "good"}]', FileFormat.JSON)
    # Then only that row is invalid-encoding and its columns are cleaned
    assert summary(rows) == [(1, "1", None, "invalid-encoding"), (2, "2", "good", None)]
    assert rows[0].columns == {"text": "caf\ufffd", "n": "1"}


def test_json_id_too_long_or_not_a_scalar_is_a_row_error() -> None:
    # Given ids that are too long, an object, an array, a number and null
    data = json.dumps(
        [
            {"id": "ok-1", "text": "a"},
            {"id": SECRET * 20, "text": "b"},
            {"id": {"nested": SECRET}, "text": "c"},
            {"id": [1, 2], "text": "d"},
            {"id": 42, "text": "e"},
            {"id": None, "text": "f"},
            {"id": 10**300, "text": "g"},
        ]
    ).encode()
    # When it is read with id_field
    _, rows = read_all(data, FileFormat.JSON, id_field="id")
    # Then the long, object and array ids are invalid-row under the row number, with details
    # that quote nothing; numbers are ids and null falls back to the row number
    assert summary(rows) == [
        (1, "ok-1", "a", None),
        (2, "2", None, "invalid-row"),
        (3, "3", None, "invalid-row"),
        (4, "4", None, "invalid-row"),
        (5, "42", "e", None),
        (6, "6", "f", None),
        (7, "7", None, "invalid-row"),
    ]
    details = [r.error.detail for r in rows if r.error]
    assert details == [
        f"the id has {len(SECRET) * 20} characters; the maximum is 256",
        "the id is an object; ids must be strings or numbers",
        "the id is an array; ids must be strings or numbers",
        "the id has 301 characters; the maximum is 256",
    ]
    assert rows[2].columns["id"] == f'{{"nested":"{SECRET}"}}'


def test_jsonl_id_too_long_is_a_row_error() -> None:
    # Given JSONL whose second object has a 257-character id
    data = b'{"id": "x1", "text": "a"}\n{"id": "' + b"z" * 257 + b'", "text": "b"}\n'
    _, rows = read_all(data, FileFormat.JSONL, id_field="id")
    # Then that row is invalid-row under its number
    assert summary(rows) == [(1, "x1", "a", None), (2, "2", None, "invalid-row")]
    assert rows[1].error is not None and rows[1].error.detail == "the id has 257 characters; the maximum is 256"


def test_jsonl_number_with_too_many_digits_is_a_row_error() -> None:
    # Given a JSONL line with an integer id longer than Python converts by default
    data = b'{"id": ' + b"7" * 5000 + b', "text": "a"}\n"next"\n'
    _, rows = read_all(data, FileFormat.JSONL, id_field="id")
    # Then that line is invalid-row rather than an unreadable file, and reading goes on
    assert summary(rows) == [(1, "1", None, "invalid-row"), (2, "2", "next", None)]
    assert rows[0].error is not None and rows[0].error.detail == "line holds a number with too many digits"


@pytest.mark.parametrize("fmt", [FileFormat.JSON, FileFormat.JSONL])
def test_first_object_without_id_field_is_a_file_error(fmt: FileFormat) -> None:
    # Given an id_field that the first object lacks
    objects = [{"ref": "a", "text": "x"}, {"sku": "b", "text": "y"}]
    data = (
        json.dumps(objects).encode() if fmt == FileFormat.JSON else b"\n".join(json.dumps(o).encode() for o in objects)
    )
    error = unusable(data, fmt, id_field="sku")
    # Then the file is unusable and the detail lists the first object's keys
    assert error.code == "id-column-not-found"
    assert error.detail == "the first object has no 'sku'; it has: 'ref', 'text'"


@pytest.mark.parametrize("fmt", [FileFormat.JSON, FileFormat.JSONL])
def test_later_object_without_id_field_falls_back_to_the_row_number(fmt: FileFormat) -> None:
    # Given a first object with the id key (in another case) and a later one without it
    objects = [{"SKU": "a", "text": "x"}, {"text": "y"}, {"SKU": "c", "text": "z"}]
    data = (
        json.dumps(objects).encode() if fmt == FileFormat.JSON else b"\n".join(json.dumps(o).encode() for o in objects)
    )
    _, rows = read_all(data, fmt, id_field="sku")
    # Then the key is matched like text_field, and the later object's id is its row number
    assert summary(rows) == [(1, "a", "x", None), (2, "2", "y", None), (3, "c", "z", None)]


# ---- JSONL ---------------------------------------------------------------------------------


def test_jsonl_happy_path_and_bad_lines() -> None:
    # Given JSONL with objects, a string, a broken line, an interior blank line and a final newline
    data = (
        b'{"id": "x1", "message": "hello"}\r\n'
        b'{"id": "x2", "message": "' + SECRET.encode() + b'"\n'
        b"\n"
        b'"a bare string"\n'
        b"[1, 2]\n"
        b'{"id": "x6", "message": "bye", "lang": "en"}\n'
    )
    stream, rows = read_all(data, FileFormat.JSONL, id_field="id")
    # Then the broken line is invalid-row, the blank one empty-text, and the rest still read
    assert summary(rows) == [
        (1, "x1", "hello", None),
        (2, "2", None, "invalid-row"),
        (3, "3", None, "empty-text"),
        (4, "4", "a bare string", None),
        (5, "5", None, "invalid-row"),
        (6, "x6", "bye", None),
    ]
    assert rows[1].error is not None and SECRET not in rows[1].error.detail
    assert rows[5].columns == {"id": "x6", "message": "bye", "lang": "en"}
    # And the columns are the union of keys in first-seen order, complete after iteration
    assert (stream.text_field, stream.columns) == ("message", ["id", "message", "text", "lang"])


def test_jsonl_without_final_newline() -> None:
    _, rows = read_all(b'"a"\n"b"', FileFormat.JSONL)
    assert summary(rows) == [(1, "1", "a", None), (2, "2", "b", None)]


# ---- TXT -----------------------------------------------------------------------------------


def test_txt_lines() -> None:
    # Given lines with CRLF, an interior blank line, U+0085, U+2028 and a form feed inside lines
    data = "first\r\n\nnext\u0085line\u2028still\x0csame\nlast\n".encode()
    stream, rows = read_all(data, FileFormat.TXT)
    # Then only "\n" separates rows, "\r" is dropped, and the final newline adds no row
    assert (stream.columns, stream.text_field) == (["text"], "text")
    assert summary(rows) == [
        (1, "1", "first", None),
        (2, "2", None, "empty-text"),
        (3, "3", "next\u0085line\u2028still\x0csame", None),
        (4, "4", "last", None),
    ]
    assert rows[0].columns == {"text": "first"}


def test_txt_huge_line_is_not_kept() -> None:
    # Given a single 6 MB line with no newline, longer than the readers keep
    stream = open_rows(GeneratedBody(iter([b"y" * (1024 * 1024)] * 6 + [b"\nok"])), FileSpec(FileFormat.TXT))
    rows = list(stream)
    # Then it is text-too-long with its true length, and the next line reads
    assert summary(rows) == [(1, "1", None, "text-too-long"), (2, "2", "ok", None)]
    assert rows[0].error is not None
    assert rows[0].error.detail == "text has 6291456 characters; the maximum is 5000"


# ---- every format --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "template"),
    [
        (FileFormat.CSV, "text\n{}\nok\n"),
        (FileFormat.JSON, '["{}", "ok"]'),
        (FileFormat.JSONL, '{{"text": "{}"}}\n"ok"\n'),
        (FileFormat.TXT, "{}\nok\n"),
    ],
)
def test_text_too_long_in_every_format(fmt: FileFormat, template: str) -> None:
    # Given a text of 101 characters and a limit of 100
    long_text = SECRET + " " + "z" * (100 - len(SECRET))
    assert len(long_text) == 101
    _, rows = read_all(template.format(long_text).encode(), fmt, max_text_chars=100)
    # Then it is text-too-long, with a detail that does not quote it; the next row is fine
    assert summary(rows) == [(1, "1", None, "text-too-long"), (2, "2", "ok", None)]
    assert rows[0].error is not None
    assert rows[0].error.detail == "text has 101 characters; the maximum is 100"
    assert all(r.error is None or r.error.code in ROW_ERROR_CODES for r in rows)


# Conversations have message ids; test_conversations covers their blank messages.
@pytest.mark.parametrize("fmt", [FileFormat.CSV, FileFormat.JSON, FileFormat.JSONL, FileFormat.TXT])
def test_whitespace_only_text_is_empty_text(fmt: FileFormat) -> None:
    data = {
        FileFormat.CSV: b'text\n"  \t "\nok\n',
        FileFormat.JSON: b'["  \\t ", "ok"]',
        FileFormat.JSONL: b'"  \\t "\n"ok"\n',
        FileFormat.TXT: b"  \t \nok\n",
    }[fmt]
    _, rows = read_all(data, fmt)
    assert summary(rows) == [(1, "1", None, "empty-text"), (2, "2", "ok", None)]


def test_row_stream_is_single_pass() -> None:
    stream, _ = read_all(b"a\nb\n", FileFormat.TXT)
    assert iter(stream) is stream
    assert list(stream) == []


# ---- streaming -----------------------------------------------------------------------------


def generated_csv(total_bytes: int) -> Iterator[bytes]:
    """About total_bytes of CSV, produced one row at a time."""
    yield b"id,review,stars\n"
    filler = "lorem ipsum dolor sit amet " * 36  # ~1 KB per row
    produced, number = 0, 0
    while produced < total_bytes:
        number += 1
        row = f'{number},"Review {number}: {filler}",{number % 5 + 1}\n'.encode()
        produced += len(row)
        yield row


def test_reading_is_streamed_with_flat_memory() -> None:
    # Given a ~50 MB CSV body generated lazily
    size = 50 * 1024 * 1024
    body = GeneratedBody(generated_csv(size))
    tracemalloc.start()
    try:
        # When every row is read
        count = 0
        for row in open_rows(body, FileSpec(FileFormat.CSV)):
            assert row.error is None
            count += 1
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # Then the whole body was consumed in small reads while traced memory stayed far below its size
    assert body.served >= size
    assert count > 40_000
    assert body.max_requested <= 1024 * 1024
    assert body.max_returned <= 1024 * 1024
    assert peak < 20 * 1024 * 1024, f"peak traced memory {peak} bytes"


def test_reads_a_botocore_streaming_body() -> None:
    # Given the body type S3 get_object returns (read(n) only, no readinto or peek)
    from botocore.response import StreamingBody

    data = b'{"text": "from s3"}\n{"text": "second"}\n'
    body = StreamingBody(io.BytesIO(data), len(data))
    # Then it streams like any other body
    assert [r.text for r in open_rows(body, FileSpec(FileFormat.JSONL))] == ["from s3", "second"]


def test_json_garbage_is_malformed() -> None:
    error = unusable(b"not json at all", FileFormat.JSON)
    assert (error.code, error.detail) == ("malformed-file", "the file is not valid JSON before the first row")


# ---- numbers ijson cannot take (issue 9, item 2) ------------------------------------------------

# ijson asks for 64 KiB at a time; these files put a 5,000-digit run across that boundary.
_READ_SIZE = 64 * 1024


def _digits_across_a_read(before: bytes, after: bytes) -> bytes:
    head = b'[{"text": "a \\"quoted\\" word \\\\", "pad": "'
    pad = b"p" * (_READ_SIZE - 2500 - len(head) - len(b'", "n": ') - len(before))
    return head + pad + b'", "n": ' + before + b"9" * 5000 + after + b"}]"


def test_a_long_integer_across_a_read_makes_the_json_file_malformed() -> None:
    # Given a JSON file with a 5,000-digit integer across ijson's read boundary
    data = _digits_across_a_read(b"", b"")
    # When it is read / Then the file is malformed, before ijson could crash the process on it
    with pytest.raises(UnusableFile) as caught:
        list(open_rows(io.BytesIO(data), FileSpec(FileFormat.JSON)))
    assert caught.value.code == "malformed-file"
    assert "number with more than" in caught.value.detail


def test_the_same_digits_inside_a_string_are_text() -> None:
    # Given the same digits as a string across the read boundary, after escaped quotes and backslashes
    data = _digits_across_a_read(b'"', b'"')
    # When it is read
    rows = list(open_rows(io.BytesIO(data), FileSpec(FileFormat.JSON)))
    # Then its row is read, with the digits as a column
    assert [(row.text, row.error, len(row.columns["n"])) for row in rows] == [('a "quoted" word \\', None, 5000)]


def test_an_integer_as_long_as_int_accepts_is_still_read() -> None:
    # Given an integer of exactly the digits Python's int() accepts beside the text
    data = b'[{"text": "fine", "n": ' + b"9" * sys.get_int_max_str_digits() + b"}]"
    # When it is read / Then it is a column like any other
    (row,) = list(open_rows(io.BytesIO(data), FileSpec(FileFormat.JSON)))
    assert row.error is None and row.columns["n"] == "9" * sys.get_int_max_str_digits()
