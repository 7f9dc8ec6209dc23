"""Excel workbooks (.xlsx) in: a sheet streamed row by row, its cells read as the text a CSV export
of the same sheet holds, and a broken or unexpected workbook refused with a stable code."""

from __future__ import annotations

import csv
import datetime as dt
import io
import tracemalloc
import zipfile

import pytest
from openpyxl import Workbook
from reviewpulse.errors import UnusableFile
from reviewpulse.ingest.file_spec import FileSpec
from reviewpulse.ingest.formats import FileFormat
from reviewpulse.ingest.readers import open_rows, read_columns, xlsx_file

HEADER = ["ticket", "review", "created_at", "stars", "price", "refunded"]


def workbook_bytes(sheets: dict[str, list[list[object]]], *, write_only: bool = False) -> bytes:
    book = Workbook(write_only=write_only)
    if not write_only:
        book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xlsx(data: bytes, **spec: object) -> list:
    return list(open_rows(io.BytesIO(data), FileSpec(FileFormat.XLSX, **spec)))  # type: ignore[arg-type]


def refusal(data: bytes, **spec: object) -> UnusableFile:
    with pytest.raises(UnusableFile) as refused:
        xlsx(data, **spec)
    return refused.value


def test_a_named_sheet_reads_as_the_same_sheet_saved_as_csv() -> None:
    # Given a workbook whose second sheet holds tickets with a date-time, a date, whole and decimal
    # numbers and booleans, and the CSV that Excel's "CSV UTF-8" export of it holds (ISO dates)
    values = [
        [1001, "Great flight, on time", dt.datetime(2026, 2, 16, 23, 48, 48), 5, 3.5, False],
        [1002, "Lost my bag again", dt.datetime(2026, 2, 17), 1, 0.1 + 0.2, True],
        [1003, "Staff were kind", dt.date(2026, 2, 18), 4, 12, False],
    ]
    data = workbook_bytes({"Summary": [["note"], ["ignore me"]], "Tickets": [HEADER, *values]})
    exported = (
        b"ticket,review,created_at,stars,price,refunded\r\n"
        b'1001,"Great flight, on time",2026-02-16 23:48:48,5,3.5,FALSE\r\n'
        b"1002,Lost my bag again,2026-02-17,1,0.3,TRUE\r\n"
        b"1003,Staff were kind,2026-02-18,4,12,FALSE\r\n"
    )
    # When the sheet is read by its name (in another case) and the CSV as a CSV
    from_sheet = xlsx(data, id_field="ticket", sheet="tickets")
    from_csv = list(open_rows(io.BytesIO(exported), FileSpec(FileFormat.CSV, id_field="ticket")))
    # Then the two give the same rows: ids, texts and every column's text
    assert from_sheet == from_csv
    assert [row.id for row in from_sheet] == ["1001", "1002", "1003"]
    assert [row.columns["created_at"] for row in from_sheet] == ["2026-02-16 23:48:48", "2026-02-17", "2026-02-18"]
    assert [row.columns["price"] for row in from_sheet] == ["3.5", "0.3", "12"]


def test_the_first_sheet_is_read_when_none_is_named_and_its_text_column_is_found() -> None:
    data = workbook_bytes({"Export": [["id", "Review"], [1, "Fine"], [2, "Bad"]], "Other": [["text"], ["x"]]})
    stream = open_rows(io.BytesIO(data), FileSpec(FileFormat.XLSX))
    assert [(row.id, row.text) for row in stream] == [("1", "Fine"), ("2", "Bad")]
    assert (stream.columns, stream.text_field) == (["id", "Review"], "Review")


def test_empty_rows_count_like_blank_csv_lines_and_a_row_past_the_header_is_invalid() -> None:
    # Given a header after two empty rows, an empty row between data rows, a short row, a row with
    # a value beyond the header's last column, and empty rows at the end
    rows = [[], [], ["id", "text", "city"], [1, "ok"], [], [3, "fine", "Lyon"], [4, "too wide", "", "x"], [], []]
    read = xlsx(workbook_bytes({"S": rows}), id_field="id")
    # Then the empty row between data rows is an empty-text row, the short row is padded, the wide
    # row is invalid-row, and nothing at the end is a row
    assert [(row.number, row.id, row.error.code if row.error else row.text) for row in read] == [
        (1, "1", "ok"),
        (2, "2", "empty-text"),
        (3, "3", "fine"),
        (4, "4", "invalid-row"),
    ]
    assert read[0].columns == {"id": "1", "text": "ok", "city": ""}


def test_a_sheet_the_workbook_lacks_is_refused_naming_those_it_has() -> None:
    refused = refusal(workbook_bytes({"Jan": [["text"], ["a"]], "Feb": [["text"], ["b"]]}), sheet="March")
    assert refused.code == "sheet-not-found" and "'Jan', 'Feb'" in refused.detail


def test_the_header_is_what_a_client_checks_before_it_uploads() -> None:
    data = workbook_bytes({"S": [["id", "comment", "company"], [1, "ok", "acme"]]})
    columns, problem = read_columns(io.BytesIO(data), FileSpec(FileFormat.XLSX, id_field="ID"), 1)
    assert (columns, problem) == (["id", "comment", "company"], None)
    columns, problem = read_columns(io.BytesIO(data), FileSpec(FileFormat.XLSX, text_field="review"), 1)
    assert columns == ["id", "comment", "company"] and problem is not None and problem.code == "text-column-not-found"


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


# Named by their first field: a ZIP's bytes carry the time it was written, and pytest-xdist's workers
# must collect the same test ids.
NOT_USABLE = [
    ("empty", b"", "empty-file", "empty"),
    ("a CSV named .xlsx", b"id,text\n1,ok\n", "malformed-file", "not a ZIP"),
    ("Excel 97-2003", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "malformed-file", ".xls"),
    ("a cut ZIP", b"PK\x03\x04" + bytes(300), "malformed-file", "ZIP"),
    ("a ZIP with no workbook", _zip({"readme.txt": b"hello"}), "malformed-file", "cannot be read"),
    ("a workbook cut short", workbook_bytes({"S": [["text"], ["a"]]})[:-200], "malformed-file", "ZIP"),
    ("a header and no rows", workbook_bytes({"S": [["id", "text"]]}), "empty-file", "no data rows"),
    ("no rows at all", workbook_bytes({"S": []}), "empty-file", "no data rows"),
]


@pytest.mark.parametrize(("name", "data", "code", "says"), NOT_USABLE, ids=[case[0] for case in NOT_USABLE])
def test_a_file_that_is_not_a_usable_workbook_is_refused_with_a_stable_code(name, data, code, says) -> None:
    refused = refusal(data)
    assert (refused.code, says in refused.detail) == (code, True), (name, refused.detail)
    assert 'save it from Excel as "Excel Workbook (.xlsx)"' in refused.detail or code == "empty-file"


def test_a_broken_sheet_part_is_refused_not_crashed_on() -> None:
    # Given a workbook whose sheet XML is cut in the middle (the archive itself is sound)
    good = workbook_bytes({"S": [["text"], *[[f"row {i}"] for i in range(50)]]})
    with zipfile.ZipFile(io.BytesIO(good)) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    sheet = next(name for name in members if name.startswith("xl/worksheets/"))
    members[sheet] = members[sheet][: len(members[sheet]) // 2]
    # Then reading it ends in malformed-file, whatever rows came before
    with pytest.raises(UnusableFile) as refused:
        list(open_rows(io.BytesIO(_zip(members)), FileSpec(FileFormat.XLSX)))
    assert refused.value.code == "malformed-file" and "cannot be read" in refused.value.detail


def test_a_shared_strings_table_past_the_limit_is_refused_before_it_is_loaded(monkeypatch) -> None:
    # Given a workbook with a shared-strings table (as Excel writes them) and a limit just below its
    # size (the real limit is 192 MiB)
    table = (
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + "".join(f"<si><t>distinct review number {i}</t></si>" for i in range(200))
        + "</sst>"
    ).encode()
    with zipfile.ZipFile(io.BytesIO(workbook_bytes({"S": [["text"], ["a"]]}))) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    data = _zip({**members, "xl/sharedStrings.xml": table})
    monkeypatch.setattr(xlsx_file, "MAX_SHARED_STRINGS_BYTES", len(table) - 1)
    # Then it is refused, saying how large the table is
    refused = refusal(data)
    assert refused.code == "malformed-file" and f"{len(table):,} bytes" in refused.detail


def peak_bytes_reading(rows: int, *, keep: bool = False) -> int:
    texts = ["On time and friendly", "Lost my bag", "Rude staff at the gate", "Fine"]
    sheet = [["id", "text", "company"], *[[i, texts[i % 4], f"c{i % 7}"] for i in range(rows)]]
    data = workbook_bytes({"S": sheet}, write_only=True)
    tracemalloc.start()
    try:
        read_rows = open_rows(io.BytesIO(data), FileSpec(FileFormat.XLSX))
        kept = list(read_rows) if keep else None  # every row held, as a reader that loads the sheet would
        read = sum(1 for row in (kept if kept is not None else read_rows) if row.error is None)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert read == rows
    return peak


def test_a_large_sheet_is_streamed_not_held() -> None:
    # Given sheets of 10,000 and 40,000 rows (a few distinct texts, so the shared strings are small)
    # When each is read through, and again with every row kept
    small, large = peak_bytes_reading(10_000), peak_bytes_reading(40_000)
    held_small, held_large = peak_bytes_reading(10_000, keep=True), peak_bytes_reading(40_000, keep=True)
    # Then the 30,000 more rows cost under half of what holding them would: what grows is the copy
    # of the file and the emptied row elements the XML parser keeps (about 75 bytes a row)
    assert (large - small) < (held_large - held_small) / 2, (large - small, held_large - held_small)


def test_cells_are_the_text_a_csv_export_holds() -> None:
    cases = [
        (None, ""),
        (True, "TRUE"),
        (7, "7"),
        (7.0, "7"),
        (1 / 3, "0.333333333333333"),
        (1e20, "1e+20"),
        (dt.datetime(2026, 3, 1, 8, 5, 0), "2026-03-01 08:05:00"),
        (dt.datetime(2026, 3, 1), "2026-03-01"),
        (dt.time(8, 5), "08:05:00"),
        ("=not a formula, a text", "=not a formula, a text"),
    ]
    assert [(value, xlsx_file.cell_text(value)) for value, _ in cases] == cases


def test_the_csv_reader_would_read_what_the_xlsx_reader_gives() -> None:
    # Given a sheet of one review per row with the texts CSV quoting must protect
    texts = ['He said "never again"', "commas, everywhere", "line\nbreak"]
    data = workbook_bytes({"S": [["text"], *[[t] for t in texts]]})
    # When read, and written back as CSV and read again
    rows = xlsx(data)
    out = io.StringIO()
    csv.writer(out).writerows([["text"], *[[row.text] for row in rows]])
    again = list(open_rows(io.BytesIO(out.getvalue().encode()), FileSpec(FileFormat.CSV)))
    # Then nothing changed on the way
    assert [row.text for row in rows] == texts == [row.text for row in again]
