"""Excel workbooks (.xlsx): the first worksheet, or the one `options.sheet` names; its first row
that is not empty is the header, as in a CSV.

Read with openpyxl in read-only mode (a well-kept reader that streams a sheet's XML row by row). A
ZIP archive can only be opened from its end, so the body is first copied to a spooled temporary
file (in memory up to SPOOL_BYTES, on disk past it). Rows are then read one at a time; what stays
in memory is
  - the workbook's shared-strings table (each distinct text once), which openpyxl loads whole: its
    uncompressed size is checked against MAX_SHARED_STRINGS_BYTES before it is loaded;
  - an emptied element per row read (the standard library's XML parser keeps each cleared <row> in
    its parent): about 75 bytes a row measured, so at most about 80 MB at Excel's limit of
    1,048,576 rows a sheet.

Cells become the text a CSV export would hold, so that every later step (time_field, group_by,
label_field, the results CSV's input columns) reads them as it reads a CSV's:
  - dates and times in ISO 8601: `2026-02-16` for a date at midnight, else `2026-02-16 23:48:48`
    (Excel stores no time zone: naive, as a CSV's `2026-02-16 23:48:48` is);
  - numbers with Excel's 15 significant digits (`3`, `3.5`, `0.3`, not `3.0` or `0.30000000000000004`);
  - booleans as Excel writes them, TRUE and FALSE; formulas as their last calculated value (a
    workbook never calculated, as some libraries write them, has none: the cell is empty).
Rows shorter than the header are padded with empty cells (a sheet does not store empty cells); a
row with values beyond the header's last column is invalid-row, as a ragged CSV row is.
"""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from typing import IO, Any

from reviewpulse.errors import UnusableFile
from reviewpulse.ingest.file_spec import FileSpec
from reviewpulse.ingest.readers.rows import (
    ReadState,
    Row,
    clean,
    error_row,
    find_id_name,
    find_name,
    find_text_name,
    list_names,
    parse_row_id,
    text_row,
    unique_names,
)

SPOOL_BYTES = 8 * 1024 * 1024
# The shared-strings table is the one part openpyxl reads whole (Python strings take about twice its
# XML size): above this, the workbook is refused rather than let run the function out of memory.
MAX_SHARED_STRINGS_BYTES = 192 * 1024 * 1024
_ZIP_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003 .xls (and other OLE2 files)
_EMPTY_LOOK_BYTES = 4096
_EMPTY_BYTES = b" \t\r\n\x00\xef\xbb\xbf\xfe\xff"
_SAVE_AS = 'save it from Excel as "Excel Workbook (.xlsx)" or "CSV UTF-8 (Comma delimited)"'


def xlsx_rows(body: IO[bytes] | Any, spec: FileSpec, state: ReadState) -> Iterator[Row]:
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spooled:
        shutil.copyfileobj(_Reader(body), spooled, 1024 * 1024)
        spooled.seek(0)
        _check_archive(spooled)
        workbook = _open_workbook(spooled)
        try:
            sheet = _choose_sheet(workbook, spec.sheet)
            yield from _sheet_rows(sheet, spec, state)
        finally:
            workbook.close()


class _Reader:
    """body.read(n) as the file object shutil.copyfileobj takes (botocore's StreamingBody is one)."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def read(self, size: int) -> bytes:
        return self._body.read(size) or b""


def _check_archive(spooled: IO[bytes]) -> None:
    start = spooled.read(_EMPTY_LOOK_BYTES)
    spooled.seek(0)
    if len(start) < _EMPTY_LOOK_BYTES and not start.translate(None, _EMPTY_BYTES):
        raise UnusableFile("empty-file", "the file is empty")  # no bytes, or only blanks and byte-order marks
    if start.startswith(_OLE2_MAGIC):
        raise UnusableFile(
            "malformed-file", f"the file is an Excel 97-2003 (.xls) workbook, which is not read; {_SAVE_AS}"
        )
    if not start.startswith(_ZIP_MAGIC):
        raise UnusableFile("malformed-file", f"the file is not an .xlsx workbook (not a ZIP archive); {_SAVE_AS}")
    try:
        with zipfile.ZipFile(spooled) as archive:
            shared = sum(i.file_size for i in archive.infolist() if i.filename.lower().endswith("sharedstrings.xml"))
    except zipfile.BadZipFile:
        raise UnusableFile("malformed-file", f"the .xlsx workbook is not a readable ZIP archive; {_SAVE_AS}") from None
    finally:
        spooled.seek(0)
    if shared > MAX_SHARED_STRINGS_BYTES:
        detail = (
            f"the workbook's shared-strings table holds {shared:,} bytes uncompressed; the most read is "
            f"{MAX_SHARED_STRINGS_BYTES:,}: save it as CSV UTF-8, which is read as a stream"
        )
        raise UnusableFile("malformed-file", detail)


def _open_workbook(spooled: IO[bytes]) -> Any:
    from openpyxl import load_workbook  # only xlsx files pay its import

    try:
        return load_workbook(spooled, read_only=True, data_only=True, keep_links=False)
    # openpyxl raises what its parts raise on a broken workbook (KeyError for a missing part,
    # XML parse errors, ValueError, TypeError, …): each is this file's problem. The message is not
    # passed on (it may quote the file), only the kind.
    except Exception as exc:  # noqa: BLE001
        detail = f"the .xlsx workbook cannot be read ({type(exc).__name__}); {_SAVE_AS}"
        raise UnusableFile("malformed-file", detail) from None


def _choose_sheet(workbook: Any, wanted: str | None) -> Any:
    sheets = workbook.worksheets
    names = [sheet.title for sheet in sheets]
    if wanted is None:
        if not sheets:
            raise UnusableFile("empty-file", "the workbook has no worksheet")
        return sheets[0]
    index = find_name(names, wanted)  # exact, else ignoring case and surrounding spaces
    if index is None:
        raise UnusableFile("sheet-not-found", f"the workbook has no sheet {wanted!r}; it has: {list_names(names)}")
    return sheets[index]


def _sheet_rows(sheet: Any, spec: FileSpec, state: ReadState) -> Iterator[Row]:
    number = 0
    try:
        values = (_trimmed(row) for row in sheet.iter_rows(values_only=True))
        header = next((row for row in values if row), None)
        blank_rows = 0
        while (first := next(values, None)) == []:
            blank_rows += 1
        if header is None or first is None:
            return  # no data row: open_rows says empty-file
        names = unique_names(header)
        state.add_columns(names)
        text_index = find_text_name(header, spec.text_field, single_fallback=True, where="the sheet's header")
        id_index = find_id_name(header, spec.id_field, where="the sheet's header") if spec.id_field else None
        state.text_field = names[text_index]
        for record in itertools.chain([first], values):
            # An empty row counts, as a CSV's blank line does, unless only empty rows follow it.
            if not record:
                blank_rows += 1
                continue
            for _ in range(blank_rows):
                number += 1
                yield text_row(number, str(number), "", dict.fromkeys(names, ""), spec)
            blank_rows = 0
            number += 1
            padded = record + [""] * (len(header) - len(record))
            columns = dict(zip(names, padded, strict=False))
            row_id, id_error = parse_row_id(number, padded[id_index] if id_index is not None else None)
            if len(record) > len(header):
                detail = f"row has values in {len(record)} columns; the header has {len(header)}"
                yield error_row(number, row_id, "invalid-row", detail, columns)
            elif id_error is not None:
                yield Row(number, row_id, None, id_error, columns)
            else:
                yield text_row(number, row_id, padded[text_index], columns, spec)
    except UnusableFile:
        raise
    except Exception as exc:  # noqa: BLE001 (as in _open_workbook: a broken sheet, whatever openpyxl raises)
        detail = f"the sheet cannot be read after row {number} ({type(exc).__name__}); {_SAVE_AS}"
        raise UnusableFile("malformed-file", detail) from None


def _trimmed(row: tuple[Any, ...]) -> list[str]:
    """A sheet row as CSV text cells, without the empty cells at its end ([] for an empty row)."""
    cells = [cell_text(value) for value in row]
    while cells and not cells[-1]:
        cells.pop()
    return cells


def cell_text(value: Any) -> str:
    """A cell's value as a CSV export of the sheet would write it (see the module's docstring)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.15g}"  # Excel shows 15 significant digits
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds" if not value.microsecond else "milliseconds")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return clean(str(value))
