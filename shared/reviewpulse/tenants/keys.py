"""API keys: generated once, stored only as a SHA-256 hash, looked up by the authorizer.

Keys are 256-bit random tokens, so a plain SHA-256 is enough (a slow password hash protects
low-entropy secrets, which these are not).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from reviewpulse.clock import now
from reviewpulse.tenants.scopes import ALL_SCOPES, Scope, parse_scopes

KEY_PREFIX = "rp_"
TENANT_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
MAX_NAME_CHARS = 64
_deserializer = TypeDeserializer()


def generate_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_id(key_hash: str) -> str:
    """A short, non-secret name for a key, safe to print and log."""
    return key_hash[:12]


def is_valid_tenant(name: str) -> bool:
    return bool(TENANT_PATTERN.match(name))


@dataclass(frozen=True)
class ApiKeyRecord:
    key_hash: str
    tenant: str
    status: str  # active | revoked
    created_at: str
    usage_key: str | None = None  # the API Gateway key value the usage plan throttles by
    scopes: frozenset[Scope] = ALL_SCOPES  # a key stored before scopes existed keeps all of them
    expires_at: str | None = None  # ISO 8601 UTC; None: never
    name: str = ""

    @property
    def key_id(self) -> str:
        return key_id(self.key_hash)

    @property
    def active(self) -> bool:
        return self.status == "active"

    def expired(self, at: datetime | None = None) -> bool:
        return self.expires_at is not None and datetime.fromisoformat(self.expires_at) <= (at or now())

    def usable(self, at: datetime | None = None) -> bool:
        """Active and not past its expiry: what the authorizer lets through."""
        return self.active and not self.expired(at)

    def state(self, at: datetime | None = None) -> str:
        """active, expired or revoked (as `keys list` shows it)."""
        return "expired" if self.active and self.expired(at) else self.status


class KeyRepository:
    def __init__(self, table_name: str, dynamodb: Any) -> None:
        self._table = table_name
        self._ddb = dynamodb

    def find(self, key: str) -> ApiKeyRecord | None:
        response = self._ddb.get_item(TableName=self._table, Key={"key_hash": {"S": hash_api_key(key)}})
        item = response.get("Item")
        return _record(item) if item else None

    def create(
        self,
        tenant: str,
        usage_key: str | None = None,
        *,
        scopes: frozenset[Scope] = ALL_SCOPES,
        expires_at: datetime | None = None,
        name: str = "",
    ) -> tuple[str, ApiKeyRecord]:
        """A new random key for the tenant. The key itself is returned once and never stored."""
        key = generate_api_key()
        return key, self.add(key, tenant, usage_key, scopes=scopes, expires_at=expires_at, name=name)

    def add(
        self,
        key: str,
        tenant: str,
        usage_key: str | None = None,
        *,
        scopes: frozenset[Scope] = ALL_SCOPES,
        expires_at: datetime | None = None,
        name: str = "",
    ) -> ApiKeyRecord:
        """Store a key the caller already has (its hash only), with its scopes, expiry and name."""
        if not scopes:
            raise ValueError("a key needs at least one scope")
        if len(name) > MAX_NAME_CHARS:
            raise ValueError(f"a key's name is at most {MAX_NAME_CHARS} characters")
        record = ApiKeyRecord(
            hash_api_key(key),
            tenant,
            "active",
            now().isoformat(),
            usage_key,
            frozenset(scopes),
            expires_at.isoformat() if expires_at else None,
            name,
        )
        item = {
            "key_hash": {"S": record.key_hash},
            "tenant": {"S": tenant},
            "status": {"S": record.status},
            "created_at": {"S": record.created_at},
            "scopes": {"SS": sorted(s.value for s in record.scopes)},
        }
        if usage_key:
            item["usage_key"] = {"S": usage_key}
        if record.expires_at:
            item["expires_at"] = {"S": record.expires_at}
        if name:
            item["name"] = {"S": name}
        self._ddb.put_item(TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(key_hash)")
        return record

    def for_tenant(self, tenant: str) -> list[ApiKeyRecord]:
        response = self._ddb.query(
            TableName=self._table,
            IndexName="by_tenant",
            KeyConditionExpression="tenant = :t",
            ExpressionAttributeValues={":t": {"S": tenant}},
        )
        return [_record(item) for item in response.get("Items", [])]

    def _one_active(self, tenant: str, key_id_prefix: str) -> ApiKeyRecord | None:
        if not key_id_prefix:
            return None
        matches = [r for r in self.for_tenant(tenant) if r.key_hash.startswith(key_id_prefix) and r.active]
        return matches[0] if len(matches) == 1 else None

    def expire(self, tenant: str, key_id_prefix: str, at: datetime | None = None) -> ApiKeyRecord | None:
        """Set when one active key of the tenant stops working (now unless `at`): an expiry that
        can be brought forward or moved, where a revocation is final."""
        record = self._one_active(tenant, key_id_prefix)
        if record is None:
            return None
        when = (at or now()).isoformat()
        self._ddb.update_item(
            TableName=self._table,
            Key={"key_hash": {"S": record.key_hash}},
            UpdateExpression="SET expires_at = :at",
            ExpressionAttributeValues={":at": {"S": when}},
        )
        return replace(record, expires_at=when)

    def revoke(self, tenant: str, key_id_prefix: str) -> ApiKeyRecord | None:
        record = self._one_active(tenant, key_id_prefix)
        if record is None:
            return None
        self._ddb.update_item(
            TableName=self._table,
            Key={"key_hash": {"S": record.key_hash}},
            UpdateExpression="SET #s = :revoked, revoked_at = :now",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":revoked": {"S": "revoked"}, ":now": {"S": now().isoformat()}},
        )
        return record


def _record(item: dict[str, Any]) -> ApiKeyRecord:
    plain = {k: _deserializer.deserialize(v) for k, v in item.items()}
    return ApiKeyRecord(
        key_hash=plain["key_hash"],
        tenant=plain["tenant"],
        status=plain.get("status", "active"),
        created_at=plain.get("created_at", ""),
        usage_key=plain.get("usage_key"),
        # No scopes attribute: a key from before scopes, which keeps every scope.
        scopes=parse_scopes(plain["scopes"]) if "scopes" in plain else ALL_SCOPES,
        expires_at=plain.get("expires_at"),
        name=plain.get("name", ""),
    )
