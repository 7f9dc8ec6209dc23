"""The sweeper's view of the tasks table: running tasks that stopped moving (the sparse `active`
index, spread over `ACTIVE_SHARDS` partitions), and the move that ends one (usecases.sweep)."""

from __future__ import annotations

from typing import Any

from reviewpulse.tasks.model import Move, TaskError
from reviewpulse.tasks.table import ACTIVE_SHARDS, TaskTable, deserialize, to_values

__all__ = ["ACTIVE_SHARDS", "Sweeps"]


class Sweeps(TaskTable):
    def stale(self, shard: str, older_than: str) -> list[dict[str, str]]:
        """Running tasks of one shard last updated before `older_than` (ISO time)."""
        found: list[dict[str, str]] = []
        query: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "active",
            "KeyConditionExpression": "active_shard = :shard AND updated_at < :before",
            "ExpressionAttributeValues": to_values({":shard": shard, ":before": older_than}),
        }
        while True:
            response = self._ddb.query(**query)
            found += [deserialize(item) for item in response.get("Items", [])]
            if "LastEvaluatedKey" not in response:
                return found
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def expire(self, tenant: str, task_id: str, *, seen_status: str, seen_updated_at: str, error: TaskError) -> bool:
        """End a task that has not moved since it was seen; False if it moved or ended meanwhile."""
        ended = self._end(
            tenant,
            task_id,
            Move.EXPIRE,
            error,
            condition="#s = :seen AND updated_at = :seen_at",
            values={":seen": seen_status, ":seen_at": seen_updated_at},
        )
        return ended is not None
