"""Files Excel reads and writes: delimiters (detected, from `sep=`, or given) and a BOM on request."""

from __future__ import annotations

import csv
import io

import pytest
from reviewpulse.analysis.engines.base import EngineParts
from reviewpulse.analysis.engines.registry import engine_for
from reviewpulse.analysis.options import AnalysisOptions
from reviewpulse.ingest.file_spec import FileSpec
from reviewpulse.ingest.formats import FileFormat
from reviewpulse.ingest.readers import open_rows
from reviewpulse.ingest.readers.csv_file import choose_delimiter
from reviewpulse.results.export import ResultsWriter
from reviewpulse.results.model import ItemResult
from reviewpulse.settings import Settings


def read(data: bytes, delimiter: str | None = None, text_field: str | None = None):
    spec = FileSpec(FileFormat.CSV, id_field="id", text_field=text_field, delimiter=delimiter)
    stream = open_rows(io.BytesIO(data), spec)
    rows = list(stream)
    return stream.columns, [(r.id, r.text, r.error) for r in rows]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_each_delimiter_is_told_from_the_header(delimiter):
    # Given a file in that delimiter whose texts hold commas (what fools frequency sniffing)
    lines = [["id", "review", "stars"], ["a1", "Great value, slow delivery", "4"], ["a2", "Bad, bad, bad", "1"]]
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(lines)
    # When it is read without a delimiter
    columns, rows = read(out.getvalue().encode())
    # Then its three columns and every text come back whole
    assert columns == ["id", "review", "stars"]
    assert rows == [("a1", "Great value, slow delivery", None), ("a2", "Bad, bad, bad", None)]


def test_excels_sep_line_names_the_delimiter_and_is_not_the_header():
    # Given what Excel writes in much of Europe: a sep=; line, then semicolons, decimal commas
    data = "sep=;\r\nid;review;price\r\nb1;Très bien, merci;3,50\r\n".encode()
    # When it is read
    columns, rows = read(data)
    # Then the header is the second line and the row is whole
    assert columns == ["id", "review", "price"]
    assert rows == [("b1", "Très bien, merci", None)]


def test_an_explicit_delimiter_wins_over_the_header():
    # Given a header that looks comma-separated but the client says semicolons
    data = b"id;review,title\r\nc1;nice, really\r\n"
    # When it is read with delimiter ';'
    columns, rows = read(data, delimiter=";", text_field="review,title")
    # Then the columns are split on semicolons only
    assert columns == ["id", "review,title"]
    assert rows == [("c1", "nice, really", None)]


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (["review\n"], (",", False)),  # one column: commas
        (["a;b,c\n"], (",", False)),  # a tie goes to the first in order
        (['"x;y;z",b,c\n'], (",", False)),  # delimiters inside quotes do not count
        (["\n", "\n", "id|text\n"], ("|", False)),  # blank lines before the header
        (["SEP=|\n", "id|text\n"], ("|", True)),
        (["\ufeffsep=\t\n"], ("\t", True)),
    ],
)
def test_the_rule_on_the_first_lines(head, expected):
    assert choose_delimiter(head, None) == expected


def results_csv(options: AnalysisOptions) -> bytes:
    jsonl_file, csv_file = io.BytesIO(), io.BytesIO()
    writer = ResultsWriter(jsonl_file, csv_file, options, engine_for(options, EngineParts(Settings())), ["text"])
    result = ItemResult(row=1, id="1", label="positive", score=0.5, confidence=0.9, engine="lexicon")
    writer.write(result, {"text": "Très bien"})
    writer.close()
    return csv_file.getvalue()


def test_results_csv_starts_with_a_bom_only_on_request():
    # When results are written with csv_bom, and without
    with_bom, without = results_csv(AnalysisOptions(csv_bom=True)), results_csv(AnalysisOptions())
    # Then only the first starts with the UTF-8 byte-order mark, once, and both hold the same text
    assert with_bom.startswith(b"\xef\xbb\xbf") and with_bom.count(b"\xef\xbb\xbf") == 1
    assert not without.startswith(b"\xef\xbb\xbf")
    assert with_bom[3:] == without
    assert "Très bien" in with_bom.decode("utf-8-sig")
