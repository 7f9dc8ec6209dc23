"""Where webhooks are kept: one DynamoDB item per webhook (tenant, id, URL), its signing secret
encrypted with the stack's KMS key.

Why KMS on top of the table's own encryption at rest: a secret must be readable by the one function
that signs deliveries and by nothing else. The functions that list and register webhooks read and
write the same items, so IAM on the table cannot hide one attribute from them; the ciphertext
needs kms:Decrypt, which only the delivery function is granted (the register function may only
kms:Encrypt). The encryption context names the tenant and the webhook, so a ciphertext copied to
another item does not decrypt there. (Secrets Manager would do the same at a secret per webhook,
with a CreateSecret grant wide enough to make any secret.)

Rotation keeps two ciphertexts on the item: `secret` (the newest) and `previous_secret` with
`previous_until` (epoch seconds). Deliveries sign with each secret still valid at the time they are
sent; an expired previous secret is ignored by its time and overwritten by the next rotation. The
rotation never decrypts: it moves the current ciphertext (same tenant and webhook, so the same
encryption context) to `previous_secret` and seals a new one (kms:Encrypt and UpdateItem only).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from reviewpulse.clock import now

_deserializer = TypeDeserializer()
_SEALED = ("secret", "previous_secret")
WEBHOOK_ID_PREFIX = "wh_"


def new_webhook_id() -> str:
    return WEBHOOK_ID_PREFIX + secrets.token_hex(8)


@dataclass(frozen=True)
class Webhook:
    tenant: str
    webhook_id: str
    url: str
    created_at: str


class SecretBox:
    """Encrypts and decrypts webhook secrets with the stack's KMS key."""

    def __init__(self, key_id: str, kms: Any) -> None:
        self._key = key_id
        self._kms = kms

    def seal(self, tenant: str, webhook_id: str, secret: str) -> bytes:
        response = self._kms.encrypt(
            KeyId=self._key, Plaintext=secret.encode(), EncryptionContext=_context(tenant, webhook_id)
        )
        return response["CiphertextBlob"]

    def open(self, tenant: str, webhook_id: str, sealed: bytes) -> str:
        response = self._kms.decrypt(
            KeyId=self._key, CiphertextBlob=sealed, EncryptionContext=_context(tenant, webhook_id)
        )
        return response["Plaintext"].decode()


def _context(tenant: str, webhook_id: str) -> dict[str, str]:
    return {"tenant": tenant, "webhook_id": webhook_id}


class WebhookRepository:
    def __init__(self, table_name: str, dynamodb: Any) -> None:
        self._table = table_name
        self._ddb = dynamodb

    def add(self, tenant: str, webhook_id: str, url: str, sealed_secret: bytes) -> Webhook:
        webhook = Webhook(tenant, webhook_id, url, now().isoformat())
        self._ddb.put_item(
            TableName=self._table,
            Item={
                "tenant": {"S": tenant},
                "webhook_id": {"S": webhook_id},
                "url": {"S": url},
                "created_at": {"S": webhook.created_at},
                "secret": {"B": sealed_secret},
            },
            ConditionExpression="attribute_not_exists(webhook_id)",
        )
        return webhook

    def for_tenant(self, tenant: str) -> list[Webhook]:
        """The tenant's webhooks, oldest first (without their secrets)."""
        found: list[Webhook] = []
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "tenant = :t",
            "ExpressionAttributeValues": {":t": {"S": tenant}},
            "ProjectionExpression": "tenant, webhook_id, #u, created_at",
            "ExpressionAttributeNames": {"#u": "url"},
        }
        while True:
            response = self._ddb.query(**query)
            found += [_webhook(item) for item in response.get("Items", [])]
            if "LastEvaluatedKey" not in response:
                return sorted(found, key=lambda w: (w.created_at, w.webhook_id))
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def get_with_secrets(self, tenant: str, webhook_id: str, at: float) -> tuple[Webhook, list[bytes]] | None:
        """The webhook and its sealed secrets valid at epoch second `at`: the newest first, then
        the previous one while its overlap lasts."""
        item = self._get(tenant, webhook_id)
        if item is None:
            return None
        sealed = [bytes(_deserializer.deserialize(item["secret"]))]
        if "previous_secret" in item and at < int(item.get("previous_until", {"N": "0"})["N"]):
            sealed.append(bytes(_deserializer.deserialize(item["previous_secret"])))
        return _webhook(item), sealed

    def rotate(self, tenant: str, webhook_id: str, sealed_secret: bytes, previous_until: int) -> Webhook | None:
        """Make `sealed_secret` the webhook's secret; the one it replaces stays valid until epoch
        second `previous_until` (a previous one still in its overlap is ended). None if the tenant
        has no such webhook. One UpdateItem moves the current ciphertext to `previous_secret`
        (DynamoDB evaluates `secret` before the update), so two rotations at once lose no secret:
        the later one's previous is the earlier one's new."""
        try:
            response = self._ddb.update_item(
                TableName=self._table,
                Key={"tenant": {"S": tenant}, "webhook_id": {"S": webhook_id}},
                UpdateExpression="SET previous_secret = secret, secret = :new, previous_until = :until",
                ConditionExpression="attribute_exists(webhook_id)",
                ExpressionAttributeValues={":new": {"B": sealed_secret}, ":until": {"N": str(previous_until)}},
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return None
            raise
        return _webhook(response["Attributes"])

    def _get(self, tenant: str, webhook_id: str) -> dict[str, Any] | None:
        response = self._ddb.get_item(
            TableName=self._table,
            Key={"tenant": {"S": tenant}, "webhook_id": {"S": webhook_id}},
            ConsistentRead=True,
        )
        return response.get("Item") or None

    def delete(self, tenant: str, webhook_id: str) -> bool:
        """False if the tenant has no such webhook."""
        try:
            self._ddb.delete_item(
                TableName=self._table,
                Key={"tenant": {"S": tenant}, "webhook_id": {"S": webhook_id}},
                ConditionExpression="attribute_exists(webhook_id)",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True


def _webhook(item: dict[str, Any]) -> Webhook:
    plain = {k: _deserializer.deserialize(v) for k, v in item.items() if k not in _SEALED}
    return Webhook(plain["tenant"], plain["webhook_id"], plain["url"], plain.get("created_at", ""))
