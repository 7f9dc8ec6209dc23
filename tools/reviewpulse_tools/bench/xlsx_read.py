"""What reading an Excel workbook costs beside the same rows as CSV: the readers alone (no analysis),
`python -m reviewpulse_tools.bench.xlsx_read [--rows N]`. Not in `make bench` yet.

The rows are the shipped sample's (samples/reviews.csv) repeated with unique ids, ratings as
numbers and dates as dates in the workbook, written by openpyxl in write-only mode."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import resource
import time
from pathlib import Path

from reviewpulse.ingest.file_spec import FileSpec
from reviewpulse.ingest.formats import FileFormat
from reviewpulse.ingest.readers import open_rows

SAMPLE = Path(__file__).resolve().parents[3] / "samples" / "reviews.csv"


def files(rows: int) -> tuple[bytes, bytes]:
    """The same rows as a CSV and as a workbook."""
    from openpyxl import Workbook

    with SAMPLE.open(newline="", encoding="utf-8") as source:
        header, *body = list(csv.reader(source))
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Reviews")
    sheet.append(header)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for i in range(rows):
        order_id, product, rating, review, created_at = body[i % len(body)]
        writer.writerow([f"{order_id}-{i}", product, rating, review, created_at])
        sheet.append([f"{order_id}-{i}", product, int(rating), review, dt.date.fromisoformat(created_at)])
    workbook = io.BytesIO()
    book.save(workbook)
    return out.getvalue().encode(), workbook.getvalue()


def read_cost(data: bytes, file_format: FileFormat) -> tuple[int, float]:
    """(rows read, CPU seconds)."""
    started = time.process_time()
    rows = sum(1 for _ in open_rows(io.BytesIO(data), FileSpec(file_format, id_field="order_id")))
    return rows, time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    as_csv, as_xlsx = files(args.rows)
    for name, data, file_format in (("csv", as_csv, FileFormat.CSV), ("xlsx", as_xlsx, FileFormat.XLSX)):
        rows, cpu = read_cost(data, file_format)
        if rows != args.rows:
            raise SystemExit(f"{name}: read {rows:,} rows of {args.rows:,}")
        print(f"{name}: {len(data):,} bytes, {rows:,} rows read in {cpu:.2f} s CPU ({rows / cpu:,.0f} rows/s)")
    print(f"peak RSS of the whole run: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB")


if __name__ == "__main__":
    main()
