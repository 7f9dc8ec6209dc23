"""How a delivery is signed: HMAC-SHA256 with the webhook's secret over `<timestamp>.<body>`,
sent as `ReviewPulse-Signature: t=<unix seconds>,v1=<hex digest>` (the scheme Stripe made
familiar). The timestamp is signed too, so a receiver can refuse old replays; the README shows a
receiver's check, which `verify` is.

While a rotated secret's overlap lasts, the header carries one v1 per valid secret, the newest
first (`t=…,v1=<new>,v1=<old>`): a receiver that accepts any matching v1 keeps working whichever
of the two secrets it holds."""

from __future__ import annotations

import hashlib
import hmac
import secrets

SIGNATURE_HEADER = "ReviewPulse-Signature"
EVENT_ID_HEADER = "ReviewPulse-Event-Id"
SECRET_PREFIX = "whsec_"  # noqa: S105 (the prefix of generated secrets, not a secret)
# How old a signed timestamp a receiver should accept (the README's sample uses it).
TOLERANCE_SECONDS = 300


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def signatures(secrets: list[str], timestamp: int, body: bytes) -> str:
    """The header value signed with each secret, in the given order, over one timestamp."""
    digests = [signature(secret, timestamp, body).split(",v1=", 1)[1] for secret in secrets]
    return f"t={timestamp}," + ",".join(f"v1={digest}" for digest in digests)


def verify(secret: str, header: str, body: bytes, now: int, tolerance: int = TOLERANCE_SECONDS) -> bool:
    """A receiver's check: the header parses, its timestamp is recent, and one v1 digest matches."""
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        fields.setdefault(name, []).append(value)
    try:
        timestamp = int(fields.get("t", [""])[0])
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body).rsplit("v1=", 1)[1]
    return any(hmac.compare_digest(expected, candidate) for candidate in fields.get("v1", []))
