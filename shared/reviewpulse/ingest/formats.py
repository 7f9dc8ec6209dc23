"""The upload formats (how a file is read: file_spec.py). The enum only, no dataclasses: the CLI
lists these formats in its parser, and `reviewpulse --help` should not pay for importing dataclasses."""

from __future__ import annotations

from enum import Enum


class FileFormat(str, Enum):
    """The formats the split function can stream."""

    CSV = "csv"
    JSON = "json"
    JSONL = "jsonl"
    TXT = "txt"
    XLSX = "xlsx"  # an Excel workbook: its first sheet, or options.sheet
    # Chat conversations in JSON or JSON Lines; never told from a file name (JSON files holding
    # conversations are recognised by the json and jsonl readers themselves).
    CONVERSATIONS = "conversations"

    @classmethod
    def from_filename(cls, name: str) -> FileFormat | None:
        """The format for a file name's extension (case-insensitive), or None if unknown."""
        _, dot, extension = name.rpartition(".")
        return _BY_EXTENSION.get(extension.lower()) if dot else None


def format_names(conjunction: str = "or") -> str:
    """Every format in words, in the enum's order ("csv, json, jsonl, txt or conversations"): what
    messages and the API's descriptions list, so that a new format is listed wherever they are."""
    *names, last = (member.value for member in FileFormat)
    return f"{', '.join(names)} {conjunction} {last}"


_BY_EXTENSION: dict[str, FileFormat] = {
    "csv": FileFormat.CSV,
    "json": FileFormat.JSON,
    "jsonl": FileFormat.JSONL,
    "ndjson": FileFormat.JSONL,
    "txt": FileFormat.TXT,
    "xlsx": FileFormat.XLSX,
}
