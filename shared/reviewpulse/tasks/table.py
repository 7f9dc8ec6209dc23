"""The tasks table: the one module that knows its item's shape (how a `Task` is written and read
back) and how a write is made conditional on the task's status (`tasks.model.TRANSITIONS`).

The repositories of each concern stand on `TaskTable`: the task lifecycle (tasks.repository), the
spend ledger (tasks.spend_ledger), the Batch API state (tasks.batch_state) and the sweeper's
queries (tasks.sweeps). Every update is one conditional UpdateItem that also adds one to the
item's `version` (what the API's ETags are made of).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from reviewpulse.clock import now
from reviewpulse.tasks.model import Move, Task, TaskError, TaskStatus, sources, target

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

# Counts the task item's writes (1 when created, +1 in every update): what ETags are made of.
VERSION = "version"

# Running tasks are spread over a few partitions of the sparse `active` index.
ACTIVE_SHARDS = 8

# LLM usage lives in top-level numbers so each chunk can ADD to them in its counting update.
USAGE_ATTRIBUTES = {
    "requests": "llm_requests",
    "input_tokens": "llm_input_tokens",
    "output_tokens": "llm_output_tokens",
    "cached_items": "llm_cached_items",
    "batch_requests": "llm_batch_requests",
    "batch_input_tokens": "llm_batch_input_tokens",
    "batch_output_tokens": "llm_batch_output_tokens",
}

# Items answered per engine live in top-level numbers too (answered_by_lexicon, answered_by_llm,
# ...), so a chunk ADDs to them, whichever engines answered it, without a map that must exist first.
ANSWERED_BY = "answered_by_"


def active_shard(task_id: str) -> str:
    return f"s{int(task_id[-2:], 16) % ACTIVE_SHARDS}"


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in values.items() if v is not None}


def to_values(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in values.items()}


def deserialize(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def task_from_item(item: dict[str, Any]) -> Task:
    """A task from its item as DynamoDB writes it (typed attribute values), e.g. a stream image."""
    raw = _plain(deserialize(item))
    raw["progress"] = {
        "total": raw.pop("total", None),
        "processed": raw.pop("processed", 0),
        "failed": raw.pop("failed", 0),
    }
    raw["usage"] = {name: raw.pop(attribute, 0) for name, attribute in USAGE_ATTRIBUTES.items()}
    raw["answered_by"] = {
        name.removeprefix(ANSWERED_BY): raw.pop(name) for name in list(raw) if name.startswith(ANSWERED_BY)
    }
    return Task.model_validate(raw)


def _plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal and sets as set: make them JSON-friendly."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, set):
        return sorted(_plain(v) for v in value)
    return value


def status_in(move: Move, *, to: TaskStatus | None = None) -> tuple[str, dict[str, str]]:
    """The condition that the task's status is one `move` can be made from (`tasks.model`), with
    its placeholder values (named `:from_<status>`, apart from any other value of the write)."""
    statuses = sources(move, to=to)
    values = {f":from_{status.value}": status.value for status in statuses}
    return f"#s IN ({', '.join(values)})", values


def is_condition_failure(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class TaskTable:
    """Conditional writes of one task item, shared by the repositories of each concern.

    `on_ended` is called with the task as it stands right after a write of this table won its
    move to a terminal status (ready, error, cancelled): the one place every such move is won,
    whichever use case asks for it (finalize, the split's and the API's failures, cancel, the
    sweeper, dead letters); wiring passes the drop receipt writer here. (The completion event
    comes from the same write through the table's stream: usecases.notify.) A move that loses its
    condition calls nothing.
    """

    def __init__(self, table_name: str, dynamodb: Any, *, on_ended: Callable[[Task], Any] | None = None) -> None:
        self._table = table_name
        self._ddb = dynamodb
        self._on_ended = on_ended

    def _end(
        self,
        tenant: str,
        task_id: str,
        move: Move,
        error: TaskError | None,
        *,
        condition: str = "",
        values: dict[str, Any] | None = None,
    ) -> Task | None:
        """Make `move`, which ends a task (leaving the sweeper's `active` index), if its status
        allows it and `condition` (if any) holds."""
        status = target(move)
        allowed, allowed_values = status_in(move)
        expression = "#s = :status, tenant_status = :ts, updated_at = :now"
        values = {**(values or {}), **allowed_values}
        names: dict[str, str] = {}
        if error is not None:
            expression += ", #error = :err"
            values[":err"] = error.model_dump()
            names["#error"] = "error"
        return self._ended(
            self._update(
                tenant,
                task_id,
                set=expression,
                remove="active_shard",
                condition=f"{allowed} AND ({condition})" if condition else allowed,
                values={
                    ":status": status.value,
                    ":ts": f"{tenant}#{status.value}",
                    ":now": now().isoformat(),
                    **values,
                },
                names=names,
            )
        )

    def _ended(self, task: Task | None) -> Task | None:
        if task is not None and self._on_ended is not None:
            self._on_ended(task)
        return task

    def _update(
        self,
        tenant: str,
        task_id: str,
        *,
        set: str,
        add: list[str] | None = None,
        remove: str | None = None,
        condition: str,
        values: dict[str, Any],
        names: dict[str, str] | None = None,
    ) -> Task | None:
        """One conditional update of the task item; None if its condition failed. Every update also
        adds one to its `version`, which the API's ETags are made of: a write that changed the task
        without a new version would let a client keep a stale copy (its If-None-Match would still
        match)."""
        request = self._update_request(
            tenant, task_id, set=set, add=add, remove=remove, condition=condition, values=values, names=names
        )
        try:
            response = self._ddb.update_item(**request, ReturnValues="ALL_NEW")
        except ClientError as exc:
            if is_condition_failure(exc):
                return None
            raise
        return task_from_item(response["Attributes"])

    def _update_request(
        self,
        tenant: str,
        task_id: str,
        *,
        set: str,
        add: list[str] | None = None,
        remove: str | None = None,
        condition: str,
        values: dict[str, Any],
        names: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        expression = f"SET {set} ADD {', '.join([*(add or []), f'{VERSION} :one_version'])}"
        if remove:
            expression += f" REMOVE {remove}"
        return {
            "TableName": self._table,
            "Key": to_item({"tenant": tenant, "task_id": task_id}),
            "UpdateExpression": expression,
            "ConditionExpression": f"attribute_exists(task_id) AND ({condition})",
            "ExpressionAttributeNames": {"#s": "status", **(names or {})},
            "ExpressionAttributeValues": to_values({**values, ":one_version": 1}),
        }
