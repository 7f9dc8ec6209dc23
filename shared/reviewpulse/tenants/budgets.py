"""Budgets: a tenant's monthly budget and spend (its own DynamoDB table), and the spend gate that
reserves each LLM request against it and against the task's options.max_cost_usd.

Money is kept in integer millionths of a US dollar ("micros"), so that DynamoDB's ADD sums
exactly. Each budget has a `committed` counter: settled spend plus the reservations of requests
in flight. A reservation is a conditional ADD that keeps `committed` within the limit (the
condition `committed <= limit - cost`, as DynamoDB conditions cannot add), so however many
workers reserve at once, the reservations granted never exceed the limit; settling replaces a
reservation with what the server reported. The overshoot is therefore bounded by how much the
requests in flight cost beyond their estimates (analysis/llm/estimate.py).

The budgets table holds per tenant an item `limit` (the monthly budget) and one item per UTC month
(`2026-11`) with its committed and settled micros. The task's own counters live on the task item
(tasks.repository); usecases.spend reserves and settles both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

LIMIT = "limit"
MICROS = 1_000_000


def to_micros(usd: float) -> int:
    return math.ceil(round(usd * MICROS, 6))


def month_of(moment: datetime) -> str:
    return moment.strftime("%Y-%m")


@dataclass(frozen=True)
class MonthSpend:
    month: str
    limit_micros: int | None
    committed_micros: int
    settled_micros: int

    @property
    def used_percent(self) -> float | None:
        return None if not self.limit_micros else 100.0 * self.settled_micros / self.limit_micros


class BudgetRepository:
    """The budgets table: the only module that knows its shape."""

    def __init__(self, table_name: str, dynamodb: Any) -> None:
        self._table = table_name
        self._ddb = dynamodb

    def set_monthly(self, tenant: str, usd: float) -> None:
        self._ddb.put_item(
            TableName=self._table,
            Item={"tenant": {"S": tenant}, "period": {"S": LIMIT}, "limit_micros": {"N": str(to_micros(usd))}},
        )

    def monthly_limit(self, tenant: str) -> int | None:
        item = self._get(tenant, LIMIT)
        return int(item["limit_micros"]["N"]) if item else None

    def month(self, tenant: str, month: str) -> MonthSpend:
        limit = self.monthly_limit(tenant)
        item = self._get(tenant, month) or {}
        return MonthSpend(
            month,
            limit,
            int(item.get("committed_micros", {}).get("N", 0)),
            int(item.get("settled_micros", {}).get("N", 0)),
        )

    def reserve(self, tenant: str, month: str, micros: int, *, limit_micros: int | None) -> bool:
        if limit_micros is not None and micros > limit_micros:
            return False
        try:
            self._ddb.update_item(**self._reserve_request(tenant, month, micros, limit_micros))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def settle(self, tenant: str, month: str, *, reserved_micros: int, spent_micros: int) -> int:
        """Replace a reservation with what the request cost; the month's settled micros after it."""
        response = self._ddb.update_item(
            **self._settle_request(tenant, month, reserved_micros, spent_micros), ReturnValues="ALL_NEW"
        )
        return int(response["Attributes"].get("settled_micros", {}).get("N", 0))

    # The same two writes as one item of a transaction (TransactWriteItems), for Batch API mode: a
    # provider batch's reservation and settlement are written together with the record that makes
    # them happen once (provider_batches.repository). The caller checks micros <= limit_micros.
    def reserve_item(self, tenant: str, month: str, micros: int, *, limit_micros: int | None) -> dict[str, Any]:
        return {"Update": self._reserve_request(tenant, month, micros, limit_micros)}

    def settle_item(self, tenant: str, month: str, *, reserved_micros: int, spent_micros: int) -> dict[str, Any]:
        return {"Update": self._settle_request(tenant, month, reserved_micros, spent_micros)}

    def _reserve_request(self, tenant: str, month: str, micros: int, limit_micros: int | None) -> dict[str, Any]:
        values = {":m": {"N": str(micros)}}
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": {"tenant": {"S": tenant}, "period": {"S": month}},
            "UpdateExpression": "ADD committed_micros :m",
            "ExpressionAttributeValues": values,
        }
        if limit_micros is not None:
            request["ConditionExpression"] = "attribute_not_exists(committed_micros) OR committed_micros <= :room"
            values[":room"] = {"N": str(limit_micros - micros)}
        return request

    def _settle_request(self, tenant: str, month: str, reserved_micros: int, spent_micros: int) -> dict[str, Any]:
        return {
            "TableName": self._table,
            "Key": {"tenant": {"S": tenant}, "period": {"S": month}},
            "UpdateExpression": "ADD committed_micros :change, settled_micros :spent",
            "ExpressionAttributeValues": {
                ":change": {"N": str(spent_micros - reserved_micros)},
                ":spent": {"N": str(spent_micros)},
            },
        }

    def erase(self, tenant: str) -> int:
        """Delete the tenant's limit and every month's spend; how many records."""
        paginator = self._ddb.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="tenant = :t",
            ExpressionAttributeValues={":t": {"S": tenant}},
            ProjectionExpression="tenant, #p",
            ExpressionAttributeNames={"#p": "period"},
        )
        deleted = 0
        for page in pages:
            for item in page.get("Items", []):
                self._ddb.delete_item(TableName=self._table, Key={"tenant": item["tenant"], "period": item["period"]})
                deleted += 1
        return deleted

    def _get(self, tenant: str, period: str) -> dict[str, Any] | None:
        response = self._ddb.get_item(
            TableName=self._table, Key={"tenant": {"S": tenant}, "period": {"S": period}}, ConsistentRead=True
        )
        return response.get("Item")
