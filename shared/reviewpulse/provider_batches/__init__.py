"""Batch API mode's own records: which provider batches a task's chunks wait on, and each answer."""
