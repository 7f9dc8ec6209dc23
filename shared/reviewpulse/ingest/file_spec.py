"""How to read one upload: its format and the task's reading options."""

from __future__ import annotations

from dataclasses import dataclass

from reviewpulse.ingest.formats import FileFormat


@dataclass(frozen=True)
class FileSpec:
    """How to read one upload: its format, and optionally which column holds the text and the id."""

    format: FileFormat
    text_field: str | None = None
    id_field: str | None = None
    max_text_chars: int = 5000
    delimiter: str | None = None  # CSV: the task's delimiter option; None: detected from the file
    sheet: str | None = None  # XLSX: the task's sheet option; None: the first worksheet
