"""Where model records live: one DynamoDB item per model (tenant, model_id) in the models table,
and one more per tenant naming its default model. Status changes are conditional on the model
still training, so a redelivered training message can never overwrite a finished model."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from reviewpulse.clock import now
from reviewpulse.tenant_models.model import ModelError, ModelStatus, TenantModel

# The item holding a tenant's default model: its sort key is no model id (those start with mdl_).
DEFAULT_KEY = "default"


def _conditional_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class ModelRepository:
    def __init__(self, table_name: str, dynamodb: Any) -> None:
        self._table = table_name
        self._ddb = dynamodb

    def _key(self, tenant: str, model_id: str) -> dict[str, Any]:
        return {"tenant": {"S": tenant}, "model_id": {"S": model_id}}

    def add(self, model: TenantModel) -> None:
        self._ddb.put_item(
            TableName=self._table,
            Item={**self._key(model.tenant, model.model_id), **_attributes(model)},
            ConditionExpression="attribute_not_exists(model_id)",
        )

    def get(self, tenant: str, model_id: str) -> TenantModel | None:
        response = self._ddb.get_item(TableName=self._table, Key=self._key(tenant, model_id), ConsistentRead=True)
        item = response.get("Item")
        return _model(item) if item and "doc" in item else None

    def for_tenant(self, tenant: str) -> tuple[list[TenantModel], str | None]:
        """The tenant's models, oldest first, and its default model's id (None: none set)."""
        found: list[TenantModel] = []
        default: str | None = None
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "tenant = :t",
            "ExpressionAttributeValues": {":t": {"S": tenant}},
            "ConsistentRead": True,
        }
        while True:
            response = self._ddb.query(**query)
            for item in response.get("Items", []):
                if item["model_id"]["S"] == DEFAULT_KEY:
                    default = item.get("default_model_id", {}).get("S")
                elif "doc" in item:
                    found.append(_model(item))
            if "LastEvaluatedKey" not in response:
                return sorted(found, key=lambda m: (m.created_at, m.model_id)), default
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def mark_ready(
        self,
        tenant: str,
        model_id: str,
        *,
        version: str,
        card: dict[str, Any],
        counts: dict[str, int],
        notes: list[str] | None = None,
    ) -> bool:
        """False if the model is no longer training (finished by an earlier delivery, or deleted)."""
        changes = {"version": version, "card": card, "counts": counts, "notes": notes or []}
        return self._finish(tenant, model_id, status=ModelStatus.READY, **changes)

    def mark_failed(self, tenant: str, model_id: str, error: ModelError, counts: dict[str, int]) -> bool:
        return self._finish(tenant, model_id, status=ModelStatus.FAILED, error=error, counts=counts)

    def _finish(self, tenant: str, model_id: str, **changes: Any) -> bool:
        model = self.get(tenant, model_id)
        if model is None or model.status is not ModelStatus.TRAINING:
            return False
        finished = model.model_copy(update={**changes, "updated_at": now()})
        try:
            self._ddb.put_item(
                TableName=self._table,
                Item={**self._key(tenant, model_id), **_attributes(finished)},
                ConditionExpression="#s = :training",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":training": {"S": ModelStatus.TRAINING.value}},
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise
        return True

    def delete(self, tenant: str, model_id: str) -> TenantModel | None:
        """The deleted model, or None if the tenant has no such model."""
        try:
            response = self._ddb.delete_item(
                TableName=self._table,
                Key=self._key(tenant, model_id),
                ConditionExpression="attribute_exists(doc)",
                ReturnValues="ALL_OLD",
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                return None
            raise
        return _model(response["Attributes"])

    def erase(self, tenant: str) -> int:
        """Every record of the tenant (its models and its default); how many models there were."""
        models = 0
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "tenant = :t",
            "ExpressionAttributeValues": {":t": {"S": tenant}},
            "ProjectionExpression": "tenant, model_id",
        }
        while True:
            response = self._ddb.query(**query)
            for item in response.get("Items", []):
                self._ddb.delete_item(TableName=self._table, Key=self._key(tenant, item["model_id"]["S"]))
                models += item["model_id"]["S"] != DEFAULT_KEY
            if "LastEvaluatedKey" not in response:
                return models
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def training_since_before(self, older_than: str) -> list[TenantModel]:
        """Models still training, last written before `older_than` (ISO time), of every tenant."""
        found: list[TenantModel] = []
        query: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": TRAINING_INDEX,
            "KeyConditionExpression": "training_shard = :shard AND training_since < :before",
            "ExpressionAttributeValues": {":shard": {"S": TRAINING_SHARD}, ":before": {"S": older_than}},
        }
        while True:
            response = self._ddb.query(**query)
            # The index holds keys only: each model is read again, as it stands now.
            for item in response.get("Items", []):
                model = self.get(item["tenant"]["S"], item["model_id"]["S"])
                if model is not None and model.status is ModelStatus.TRAINING:
                    found.append(model)
            if "LastEvaluatedKey" not in response:
                return found
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def default_model_id(self, tenant: str) -> str | None:
        response = self._ddb.get_item(TableName=self._table, Key=self._key(tenant, DEFAULT_KEY), ConsistentRead=True)
        return response.get("Item", {}).get("default_model_id", {}).get("S")

    def set_default(self, tenant: str, model_id: str | None) -> None:
        if model_id is None:
            self._ddb.delete_item(TableName=self._table, Key=self._key(tenant, DEFAULT_KEY))
            return
        self._ddb.put_item(
            TableName=self._table,
            Item={**self._key(tenant, DEFAULT_KEY), "default_model_id": {"S": model_id}},
        )

    def clear_default_if(self, tenant: str, model_id: str) -> bool:
        """Unset the tenant's default if it is `model_id` (a deleted model is nobody's default)."""
        try:
            self._ddb.delete_item(
                TableName=self._table,
                Key=self._key(tenant, DEFAULT_KEY),
                ConditionExpression="default_model_id = :m",
                ExpressionAttributeValues={":m": {"S": model_id}},
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise
        return True


# The sparse `training` index holds only models in training (one partition: few train at once),
# by when they were last written: where the sweeper finds the ones stuck there.
TRAINING_INDEX, TRAINING_SHARD = "training", "training"


def _attributes(model: TenantModel) -> dict[str, Any]:
    # The record as one JSON document beside its status (conditions read the status alone).
    attributes = {"status": {"S": model.status.value}, "doc": {"S": model.model_dump_json()}}
    if model.status is ModelStatus.TRAINING:
        attributes["training_shard"] = {"S": TRAINING_SHARD}
        attributes["training_since"] = {"S": model.updated_at.isoformat()}
    return attributes


def _model(item: dict[str, Any]) -> TenantModel:
    return TenantModel.model_validate_json(item["doc"]["S"])


__all__ = ["DEFAULT_KEY", "ModelRepository", "ModelError"]
