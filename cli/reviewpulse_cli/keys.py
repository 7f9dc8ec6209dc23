"""API key administration for a deployed stack (found by name) or any keys table.

A tenant's keys share one API Gateway API key — the `usageIdentifierKey` the authorizer returns —
so the usage plan throttles the tenant as a whole, however many keys it holds.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import boto3
from botocore.exceptions import ClientError
from reviewpulse.clock import now
from reviewpulse.tenants.keys import MAX_NAME_CHARS, ApiKeyRecord, KeyRepository, is_valid_tenant
from reviewpulse.tenants.scopes import ALL_SCOPES, Scope, parse_scopes

from reviewpulse_cli.errors import KeyAdminError

__all__ = [
    "KeyAdminError",
    "KeyTarget",
    "create_key",
    "expire_key",
    "list_keys",
    "parse_expiry",
    "parse_key_scopes",
    "resolve_target",
    "revoke_key",
    "session_for",
]

_DURATION = re.compile(r"^(\d{1,5})([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_key_scopes(text: str | None) -> frozenset[Scope]:
    """`read,analyze` → those scopes; None (no --scopes) → all three, as every key had before."""
    if text is None:
        return ALL_SCOPES
    try:
        return parse_scopes(text.split(","))
    except ValueError as exc:
        raise KeyAdminError(str(exc)) from None


def parse_expiry(text: str | None, *, allow_now: bool = False) -> datetime | None:
    """`90d`, `12h`, `30m` from now, or an ISO 8601 time (UTC unless it names a zone); in the future."""
    if text is None:
        return None
    if match := _DURATION.match(text.strip()):
        when = now() + timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    else:
        try:
            when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        except ValueError:
            raise KeyAdminError(
                f"--expires/--at: {text!r} is neither a duration (90d, 12h, 30m) nor an ISO 8601 time"
            ) from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=now().tzinfo)
    if when <= now() and not allow_now:
        raise KeyAdminError("--expires must be in the future (use `keys expire` to end a key now)")
    return when


@dataclass(frozen=True)
class KeyTarget:
    keys_table: str
    usage_plan_id: str | None


def resolve_target(session: Any, *, stack: str | None, table: str | None, usage_plan_id: str | None) -> KeyTarget:
    if table:
        return KeyTarget(table, usage_plan_id)
    if not stack:
        raise KeyAdminError("name the stack (--stack) or the keys table (--table)")
    try:
        described = session.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ValidationError":
            raise KeyAdminError(f"stack {stack!r} was not found") from None
        raise
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    if "KeysTableName" not in outputs:
        raise KeyAdminError(f"stack {stack!r} has no KeysTableName output: is it a ReviewPulse stack?")
    return KeyTarget(outputs["KeysTableName"], usage_plan_id or outputs.get("UsagePlanId"))


def create_key(
    session: Any,
    target: KeyTarget,
    tenant: str,
    *,
    usage_key: str | None = None,
    scopes: frozenset[Scope] = ALL_SCOPES,
    expires_at: datetime | None = None,
    name: str = "",
) -> tuple[str, ApiKeyRecord]:
    """A new key for `tenant`. The API requires the authorizer to name a usage-plan key, so the
    tenant's one is registered with the stack's usage plan (or given, for the local stack)."""
    if not is_valid_tenant(tenant):
        raise KeyAdminError("a tenant name is 2-63 characters of a-z, 0-9 and '-', starting with a letter or digit")
    if len(name) > MAX_NAME_CHARS or not name.isprintable():
        raise KeyAdminError(f"--name is at most {MAX_NAME_CHARS} printable characters")
    keys = KeyRepository(target.keys_table, session.client("dynamodb"))
    if usage_key is None and not target.usage_plan_id:
        raise KeyAdminError(
            "the API refuses keys outside its usage plan: pass --usage-plan-id (the stack's UsagePlanId)"
        )
    if usage_key is None and target.usage_plan_id:
        existing = [r.usage_key for r in keys.for_tenant(tenant) if r.usage_key]
        usage_key = existing[0] if existing else _register_usage_key(session, target.usage_plan_id, tenant)
    return keys.create(tenant, usage_key, scopes=scopes, expires_at=expires_at, name=name)


def revoke_key(session: Any, target: KeyTarget, tenant: str, key_id: str) -> ApiKeyRecord:
    keys = KeyRepository(target.keys_table, session.client("dynamodb"))
    revoked = keys.revoke(tenant, key_id)
    if revoked is None:
        raise KeyAdminError(f"tenant {tenant!r} has no single active key whose id starts with {key_id!r}")
    return revoked


def expire_key(session: Any, target: KeyTarget, tenant: str, key_id: str, at: datetime | None = None) -> ApiKeyRecord:
    expired = KeyRepository(target.keys_table, session.client("dynamodb")).expire(tenant, key_id, at)
    if expired is None:
        raise KeyAdminError(f"tenant {tenant!r} has no single active key whose id starts with {key_id!r}")
    return expired


def list_keys(session: Any, target: KeyTarget, tenant: str) -> list[ApiKeyRecord]:
    return KeyRepository(target.keys_table, session.client("dynamodb")).for_tenant(tenant)


def _register_usage_key(session: Any, usage_plan_id: str, tenant: str) -> str:
    apigateway = session.client("apigateway")
    value = secrets.token_urlsafe(30)
    created = apigateway.create_api_key(
        name=f"reviewpulse-{tenant}", enabled=True, value=value, tags={"tenant": tenant}
    )
    apigateway.create_usage_plan_key(usagePlanId=usage_plan_id, keyId=created["id"], keyType="API_KEY")
    return value


def session_for(profile: str | None, region: str | None) -> Any:
    return boto3.session.Session(profile_name=profile, region_name=region)
