"""The cursor signing key's overlap: after a rotation, cursors signed with the key it replaced
still open for OVERLAP, then answer invalid-cursor; a function that has not yet fetched the new
key re-reads it once instead of refusing the new key's cursors."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from reviewpulse.cursors import CursorSigner
from reviewpulse.errors import InvalidCursor
from reviewpulse.signing_key import OVERLAP, parse_secret

OLD, NEW = "o" * 64, "n" * 64
ROTATED_AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ROTATED = json.dumps({"key": NEW, "previous": OLD, "rotated_at": ROTATED_AT.isoformat()})


def signer_at(value: str, at: datetime) -> CursorSigner:
    keys = parse_secret(value, at)
    return CursorSigner(lambda: keys.current, previous=lambda: keys.previous)


def test_a_secret_as_cloudformation_made_it_is_one_key():
    keys = parse_secret(OLD)
    assert (keys.current, keys.previous) == (OLD.encode(), ())


def test_cursors_of_the_previous_key_open_during_the_overlap_and_not_after():
    # Given a cursor issued before the rotation, with the old key
    cursor = signer_at(OLD, ROTATED_AT).issue(tenant="acme", listing="tasks", position={"n": 1})
    # When it is opened just before the overlap ends, Then it opens
    assert signer_at(ROTATED, ROTATED_AT + OVERLAP / 2).open(cursor, tenant="acme", listing="tasks") == {"n": 1}
    # And once the overlap is over, Then invalid-cursor
    with pytest.raises(InvalidCursor):
        signer_at(ROTATED, ROTATED_AT + OVERLAP).open(cursor, tenant="acme", listing="tasks")


def test_after_a_rotation_new_cursors_are_signed_with_the_new_key_only():
    during = signer_at(ROTATED, ROTATED_AT)
    cursor = during.issue(tenant="acme", listing="tasks", position=5)
    with pytest.raises(InvalidCursor):
        signer_at(OLD, ROTATED_AT).open(cursor, tenant="acme", listing="tasks")
    assert signer_at(ROTATED, ROTATED_AT + OVERLAP * 2).open(cursor, tenant="acme", listing="tasks") == 5


def test_an_environment_with_the_old_key_cached_reloads_once_for_a_new_keys_cursor():
    # Given an environment that still holds the old key, and a cursor another one signed with the new
    cursor = signer_at(ROTATED, ROTATED_AT).issue(tenant="acme", listing="tasks", position=7)
    held = {"value": OLD}
    reloads = []

    def reload() -> bool:
        reloads.append(1)
        held["value"] = ROTATED
        return True

    stale = CursorSigner(
        lambda: parse_secret(held["value"], ROTATED_AT).current,
        previous=lambda: parse_secret(held["value"], ROTATED_AT).previous,
        reload=reload,
    )
    # When it opens that cursor, Then it re-reads the secret once and the cursor opens
    assert stale.open(cursor, tenant="acme", listing="tasks") == 7 and len(reloads) == 1
    # And a forged cursor is still refused (after at most one more re-read, which the caller rate-limits)
    with pytest.raises(InvalidCursor):
        stale.open(cursor[:-2] + "AA", tenant="acme", listing="tasks")
