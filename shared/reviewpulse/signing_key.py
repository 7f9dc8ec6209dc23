"""The per-deployment key that signs pagination cursors (data access: Secrets Manager).

Read through Powertools Parameters with our own boto3 client (so the call is recorded like every
other AWS call), cached for KEY_MAX_AGE_SECONDS; imported only where a cursor is issued or opened,
so no other function pays for the Parameters import at cold start.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from reviewpulse.aws import client
from reviewpulse.settings import Settings

# A rotated secret is picked up within this long, without a cold start.
KEY_MAX_AGE_SECONDS = 300


class SigningKeyNotConfigured(RuntimeError):
    pass


def cursor_signing_key(settings: Settings) -> bytes:
    """CURSOR_SIGNING_KEY when set (runs without Secrets Manager); else the deployment's secret."""
    if settings.cursor_signing_key.get_secret_value():
        return settings.cursor_signing_key.get_secret_value().encode()
    if not settings.cursor_signing_secret:
        raise SigningKeyNotConfigured("no cursor signing secret is configured")
    value = _provider(client("secretsmanager")).get(settings.cursor_signing_secret, max_age=KEY_MAX_AGE_SECONDS)
    key = value.encode() if isinstance(value, str) else value
    if not isinstance(key, bytes) or not key:
        raise SigningKeyNotConfigured("the cursor signing secret is empty")
    return key


@cache
def _provider(secretsmanager: Any) -> Any:
    # One provider (and its cache) per client: tests that reset the clients get a fresh cache.
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    return SecretsProvider(boto3_client=secretsmanager)
