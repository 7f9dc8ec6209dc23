"""Time as the whole product reads it: timezone-aware UTC, and DynamoDB TTL epochs.

A module of its own so that the authorizer, the keys CLI and the task model share it without one
importing the other."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)


def ttl_epoch(created_at: datetime, days: int) -> int:
    """The epoch second at which DynamoDB's TTL may remove a record made at `created_at`."""
    return int(created_at.timestamp()) + days * 86_400
