"""DynamoDB's item answers in the local stack's AWS process, written as JSON directly.

moto builds each answer as the DynamoDB JSON it means (`{"Items": [{"tenant": {"S": ...}}]}`), then
its generic serializer walks that value against the operation's output shape, attribute by
attribute, to write the same JSON again. For items with nested maps (a task's options and
headline) that walk cost moto two orders of magnitude more than `json.dumps` of the same value
(20 s against 0.2 s for 80 calls, on a 20-item Query, GetItem and UpdateItem), and it was most of
the CPU a load run spent in the AWS process: an emulator cost, which DynamoDB does not charge to
the functions' machine.

So for the item operations, whose answers hold only strings, numbers, booleans, lists and maps
under the output shape's own member names, the answer is `json.dumps` of moto's value; anything
else (a member the shape does not name, a None, bytes of a binary attribute, a datetime) goes to
moto's serializer as before. tests/unit/test_local_dynamodb.py holds the two to the same answers.
Installed by the AWS process only (stack._serve_aws); the tests' in-process moto keeps its own.
"""

from __future__ import annotations

import json
from typing import Any

ITEM_OPERATIONS = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
    }
)
_installed: list[Any] = []
answered = {"fast": 0, "moto": 0}  # answers written each way since install()


def _plain(value: Any) -> bool:
    """Only what JSON writes as DynamoDB JSON means it: no None, bytes, datetime or Decimal."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return isinstance(value, str | bool | int | float)


def fast_answer(operation: str, members: Any, result: Any) -> str | None:
    """The answer's body as moto's serializer would write it, or None where it must write it."""
    if operation not in ITEM_OPERATIONS or not isinstance(result, dict) or not set(result) <= set(members):
        return None
    if not _plain(result):
        return None
    return json.dumps(result, separators=(",", ":"))


def install() -> None:
    """Answer DynamoDB's item operations with fast_answer (idempotent)."""
    from moto.dynamodb.responses import DynamoResult

    if _installed:
        return
    serialize = DynamoResult.execute_result

    def execute_result(self: Any, context: Any) -> Any:
        operation = context.operation_model
        shape = operation.output_shape
        body = fast_answer(operation.name, shape.members if shape is not None else {}, self.result)
        if body is None:
            answered["moto"] += 1
            return serialize(self, context)
        answered["fast"] += 1
        status, headers, _ = serialize_empty(context)
        return status, headers, body

    def serialize_empty(context: Any) -> Any:
        # The status and headers moto's serializer gives an answer of this operation.
        return serialize(DynamoResult({}), context)

    DynamoResult.execute_result = execute_result  # type: ignore[method-assign]
    _installed.append(serialize)


def uninstall() -> None:
    """Back to moto's serializer (the tests compare the two)."""
    from moto.dynamodb.responses import DynamoResult

    if _installed:
        DynamoResult.execute_result = _installed.pop()  # type: ignore[method-assign]


__all__ = ["ITEM_OPERATIONS", "answered", "fast_answer", "install", "uninstall"]
