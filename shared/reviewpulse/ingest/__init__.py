"""Streaming ingestion of uploaded files: formats (formats), how one is read (file_spec),
row readers (readers) and work-queue chunking (chunking).

Import from the submodule you need: the readers pull in ijson, which the API functions that only
need FileFormat should not load at cold start.
"""
