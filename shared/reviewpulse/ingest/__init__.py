"""Streaming ingestion of uploaded files: formats, row readers and work-queue chunking."""

from reviewpulse.ingest.chunking import Chunk, chunk_rows, encode_chunk_body, row_item
from reviewpulse.ingest.formats import FileFormat, FileSpec
from reviewpulse.ingest.readers import TEXT_COLUMN_CANDIDATES, Body, Row, RowError, RowStream, open_rows

__all__ = [
    "TEXT_COLUMN_CANDIDATES",
    "Body",
    "Chunk",
    "FileFormat",
    "FileSpec",
    "Row",
    "RowError",
    "RowStream",
    "chunk_rows",
    "encode_chunk_body",
    "open_rows",
    "row_item",
]
