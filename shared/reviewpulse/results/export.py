"""How results are written out: one JSONL line and one CSV row per item. The CSV keeps the input
file's own columns (or an `id`), then the analysis columns and those of the options asked for;
a cell a spreadsheet program would run as a formula that calls something is escaped (unless the
task's `csv_escape_formulas` is off, for machine consumers)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from typing import IO, Protocol

from reviewpulse.analysis.options import AnalysisOptions
from reviewpulse.results.model import ItemResult

ANALYSIS_COLUMNS = [
    "sentiment_label",
    "sentiment_score",
    "sentiment_confidence",
    "sentiment_engine",
    "error_code",
    "error_detail",
]
# CSV injection, limited to what a spreadsheet executes: a cell that starts with "=" is always a
# formula; one that starts with "+", "-" or "@" is escaped only when it calls something, i.e. holds
# a function call (a name directly followed by "(", as in `@SUM(A1)` or `+1+WEBSERVICE("…")`) or a
# DDE link ("|", as in `-cmd|' /C calc'!A0`). So "@united thanks", "- fast delivery" and numbers
# such as -0.4019 stay as written; arithmetic such as "-2+3" may be shown computed, but calls
# nothing. Leading spaces, tabs and line breaks are looked through (some importers trim them).
_FORMULA_SIGNS = ("+", "-", "@")
# What a cell may start with for the check below to look further (the signs and what it looks
# through): most cells start with none of them and are written as they are.
_MAY_ESCAPE = frozenset("=+-@ \t\r\n")
_CALLS_SOMETHING = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*\(|\|")


class EngineColumns(Protocol):
    """The columns an engine adds to the CSV (the llm and auto engines: the detected language)."""

    def csv_columns(self) -> list[str]: ...

    def csv_cells(self, result: ItemResult) -> list[str]: ...


class ResultsWriter:
    """Writes each result to a JSONL file and a CSV file (both binary, UTF-8); the CSV header at
    once. `input_columns` are the input file's own columns, whose cells each row then carries."""

    def __init__(
        self,
        jsonl_file: IO[bytes],
        csv_file: IO[bytes],
        options: AnalysisOptions,
        engine: EngineColumns,
        input_columns: list[str] | None,
        *,
        delimiter: str = ",",
    ) -> None:
        self._jsonl_file = jsonl_file
        # utf-8-sig writes the byte-order mark before the first cell, and only there.
        encoding = "utf-8-sig" if options.csv_bom else "utf-8"
        self._csv_text = io.TextIOWrapper(csv_file, encoding=encoding, newline="", write_through=True)
        self._csv = csv.writer(self._csv_text, delimiter=delimiter)
        self._options = options
        self._engine = engine
        self._input_columns = input_columns
        self._cell = safe_cell if options.csv_escape_formulas else _as_text
        self._csv.writerow([self._cell(c) for c in csv_header(options, engine, input_columns)])

    def write(self, result: ItemResult, source_columns: Mapping[str, str] | None = None) -> None:
        """`source_columns`: the input row's cells by column name, when there are input columns."""
        self._jsonl_file.write(jsonl_line(result))
        if self._input_columns is not None:
            own = [(source_columns or {}).get(name, "") for name in self._input_columns]
        else:
            own = [result.id]
        self._csv.writerow(
            [self._cell(v) for v in own + analysis_cells(result) + option_cells(result, self._options, self._engine)]
        )

    def close(self) -> None:
        """Leave the CSV file open (and flushed) for its caller to upload."""
        self._csv_text.detach()


def jsonl_line(result: ItemResult) -> bytes:
    return result.to_json().encode() + b"\n"


def csv_header(options: AnalysisOptions, engine: EngineColumns, input_columns: list[str] | None) -> list[str]:
    """The input's own columns then ours (renamed where the input has one of the same name), or
    `id` then ours."""
    analysis_columns = ANALYSIS_COLUMNS + option_columns(options, engine)
    if input_columns is None:
        return ["id", *analysis_columns]
    return input_columns + [_unique(name, input_columns) for name in analysis_columns]


def analysis_cells(result: ItemResult) -> list[str]:
    if result.error is not None:
        return ["", "", "", "", result.error.code, result.error.detail]
    return [result.label or "", f"{result.score}", f"{result.confidence}", result.engine or "", "", ""]


def option_columns(options: AnalysisOptions, engine: EngineColumns) -> list[str]:
    """Columns for what the task asked for: the engine's own (llm and auto: language), each
    aspect's label and evidence, themes, and with a label column whether its label was readable."""
    columns = engine.csv_columns()
    for aspect in options.aspects:
        columns += [f"aspect_{aspect}", f"aspect_{aspect}_evidence"]
    return columns + (["themes"] if options.report else []) + (["label_error_code"] if options.label_field else [])


def option_cells(result: ItemResult, options: AnalysisOptions, engine: EngineColumns) -> list[str]:
    cells = engine.csv_cells(result)
    found = {a.aspect: a for a in result.aspects or ()}
    for aspect in options.aspects:
        entry = found.get(aspect)
        cells += [entry.label, entry.evidence or ""] if entry else ["", ""]
    if options.report:
        cells.append("; ".join(f"{t.theme} ({t.polarity})" for t in result.themes or ()))
    if options.label_field:  # invalid-label: the row's own label is one the mapping cannot read
        cells.append(result.label_error.code if result.label_error else "")
    return cells


def safe_cell(value: object) -> str:
    """The cell as text, with an apostrophe before it where a spreadsheet would run it (above)."""
    text = _as_text(value)
    if not text or text[0] not in _MAY_ESCAPE:
        return text  # the finalizer writes about ten cells a row: most need no closer look
    start = text.lstrip(" \t\r\n")
    if start.startswith("=") or (start.startswith(_FORMULA_SIGNS) and _CALLS_SOMETHING.search(start)):
        return "'" + text
    return text


def _as_text(value: object) -> str:
    return "" if value is None else str(value)


def _unique(name: str, taken: list[str]) -> str:
    return name if name not in taken else f"reviewpulse_{name}"
