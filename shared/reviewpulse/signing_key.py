"""The per-deployment key that signs pagination cursors (data access: Secrets Manager), and its
rotation.

Read through Powertools Parameters with our own boto3 client (so the call is recorded like every
other AWS call), cached for KEY_MAX_AGE_SECONDS; imported only where a cursor is issued or opened,
so no other function pays for the Parameters import at cold start.

The secret's value is the key itself (as CloudFormation generates it) or, once rotated, JSON:
{"key": new, "previous": the key it replaced, "rotated_at": ISO time}. Cursors signed with the
previous key still open until OVERLAP after the rotation, then answer invalid-cursor. Rotation is
Secrets Manager's four steps (createSecret, setSecret, testSecret, finishSecret), run by the
rotation function on the secret's schedule.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from reviewpulse.aws import client
from reviewpulse.clock import now
from reviewpulse.settings import Settings

# A rotated secret is picked up within this long, without a cold start.
KEY_MAX_AGE_SECONDS = 300
# How long cursors signed with the key a rotation replaced still open: longer than any client
# takes to page through one listing, shorter than the rotation period (30 days).
OVERLAP = timedelta(hours=24)
# A cursor no known key opens makes the function re-read the secret (another environment may sign
# with a key this one has not fetched), at most this often: forged cursors cannot run up calls.
RELOAD_AT_MOST_EVERY_SECONDS = 60


class SigningKeyNotConfigured(RuntimeError):
    pass


@dataclass(frozen=True)
class SigningKeys:
    current: bytes
    previous: tuple[bytes, ...]  # still accepted: their overlap is not over


def parse_secret(value: str | bytes, at: datetime | None = None) -> SigningKeys:
    text = value.decode() if isinstance(value, bytes) else value
    if not text:
        raise SigningKeyNotConfigured("the cursor signing secret is empty")
    try:
        rotated = json.loads(text)
    except ValueError:
        rotated = None
    if not isinstance(rotated, dict) or not rotated.get("key"):
        return SigningKeys(text.encode(), ())  # as CloudFormation generated it: one key
    previous: tuple[bytes, ...] = ()
    rotated_at = datetime.fromisoformat(str(rotated.get("rotated_at", "1970-01-01T00:00:00+00:00")))
    if rotated.get("previous") and (at or now()) < rotated_at + OVERLAP:
        previous = (str(rotated["previous"]).encode(),)
    return SigningKeys(str(rotated["key"]).encode(), previous)


def cursor_signing_keys(settings: Settings, *, force: bool = False) -> SigningKeys:
    """CURSOR_SIGNING_KEY when set (runs without Secrets Manager); else the deployment's secret."""
    if settings.cursor_signing_key.get_secret_value():
        return SigningKeys(settings.cursor_signing_key.get_secret_value().encode(), ())
    if not settings.cursor_signing_secret:
        raise SigningKeyNotConfigured("no cursor signing secret is configured")
    # AWSCURRENT named, not implied: the version the rotation's last step promoted (moto's
    # unnamed default does not follow that promotion).
    value = _provider(client("secretsmanager")).get(
        settings.cursor_signing_secret, max_age=KEY_MAX_AGE_SECONDS, force_fetch=force, VersionStage="AWSCURRENT"
    )
    return parse_secret(value)


def cursor_signing_key(settings: Settings) -> bytes:
    return cursor_signing_keys(settings).current


_last_reload = [0.0]


def reload_cursor_signing_keys(settings: Settings, clock=time.monotonic) -> bool:
    """Re-read the secret now, unless it was re-read within RELOAD_AT_MOST_EVERY_SECONDS."""
    if settings.cursor_signing_key.get_secret_value() or not settings.cursor_signing_secret:
        return False
    if clock() - _last_reload[0] < RELOAD_AT_MOST_EVERY_SECONDS:
        return False
    _last_reload[0] = clock()
    cursor_signing_keys(settings, force=True)
    return True


@cache
def _provider(secretsmanager: Any) -> Any:
    # One provider (and its cache) per client: tests that reset the clients get a fresh cache.
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    return SecretsProvider(boto3_client=secretsmanager)


# -- rotation (the rotation function) ---------------------------------------------------------


class RotationRefused(RuntimeError):
    """A rotation step that cannot be done (an unknown step, a pending value that is no key)."""


def rotate_step(step: str, secret_id: str, token: str, secretsmanager: Any, at: datetime | None = None) -> None:
    """One of Secrets Manager's four rotation steps for the cursor signing secret. Each is safe to
    repeat: Secrets Manager retries a step that failed."""
    if step == "setSecret":
        return  # the key lives only in this secret: nothing else to set
    stages = secretsmanager.describe_secret(SecretId=secret_id).get("VersionIdsToStages", {})
    if "AWSCURRENT" in stages.get(token, []):
        return  # already rotated to this version (a repeated step)
    if step == "createSecret":
        try:
            secretsmanager.get_secret_value(SecretId=secret_id, VersionId=token, VersionStage="AWSPENDING")
            return  # made on an earlier attempt
        except secretsmanager.exceptions.ResourceNotFoundException:
            pass
        current = parse_secret(
            secretsmanager.get_secret_value(SecretId=secret_id, VersionStage="AWSCURRENT")["SecretString"]
        )
        value = {
            "key": secrets.token_urlsafe(48),
            "previous": current.current.decode(),
            "rotated_at": (at or now()).isoformat(),
        }
        secretsmanager.put_secret_value(
            SecretId=secret_id, ClientRequestToken=token, SecretString=json.dumps(value), VersionStages=["AWSPENDING"]
        )
    elif step == "testSecret":
        pending = secretsmanager.get_secret_value(SecretId=secret_id, VersionId=token, VersionStage="AWSPENDING")
        keys = parse_secret(pending["SecretString"], at)
        if len(keys.current) < 32 or not keys.previous:
            raise RotationRefused("the pending key is not a rotated key")
    elif step == "finishSecret":
        current = next((v for v, s in stages.items() if "AWSCURRENT" in s), None)
        secretsmanager.update_secret_version_stage(
            SecretId=secret_id, VersionStage="AWSCURRENT", MoveToVersionId=token, RemoveFromVersionId=current
        )
    else:
        raise RotationRefused(f"unknown rotation step {step!r}")
