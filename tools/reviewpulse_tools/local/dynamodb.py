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

A Query walked every item of the table, twice sorted: moto's Table.query asks all_items(), which
lists and sorts the whole table by key (DynamoType comparisons in Python), then keeps the items of
the asked hash key (a table Query) or of the index's key, which it sorts again (an index Query).
With a few thousand tasks of one tenant that sort was most of a ListTasks or GetResults call's
cost in the AWS process. So, within a Query only, all_items() answers the hash key's own items
(a table Query: DynamoDB reads one partition) or the table's items unsorted (an index Query
sorts what it keeps by the index's key and the table's, which order every item): the same
answers, held to moto's by tests/unit/test_local_dynamodb.py.

DynamoDB Streams' GetRecords went through the same serializer: a batch of up to 100 records of
the tasks table, each with the task's old and new images, cost 19 ms of CPU (measured under a
300-user load, 2026-12-06), and the stream is read every half second by its poller (streams.py),
inside the one-at-a-time lock (dynamodb_serial.py) that every DynamoDB request waits for. Its
answer is written the same way: the records' one timestamp (ApproximateCreationDateTime) as the
serializer writes it, epoch seconds, and the rest with json.dumps when it is plain; held to moto's
answer by the same test.

Installed by the AWS processes (aws_process._serve) and, for the tests' in-process moto, by
tests/conftest.py: the same emulator cost was about a quarter of an in-process pipeline test's CPU
(docs/tests.md, fifth pass).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
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
walked = {"items": 0}  # items a Query's all_items() handed over since install()
_query = threading.local()  # the Query this thread of moto's server is answering: (table, hash key)


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
    _install_query()
    _install_stream_records()


def _install_query() -> None:
    from moto.dynamodb.models.table import Table

    query, all_items = Table.query, Table.all_items

    def keyed_query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        _query.current = (self, None if index else hash_key)
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            _query.current = None

    def query_items(self: Any) -> Any:
        current = getattr(_query, "current", None)
        if current is None or current[0] is not self:
            return all_items(self)
        hash_key = current[1]
        if hash_key is None:  # an index Query: every item, in no order (it sorts its own)
            found = [i for h in self.items.values() for i in (h.values() if self.range_key_attr else [h])]
        else:  # a table Query: the partition's items (.get: self.items is a defaultdict)
            partition = self.items.get(hash_key)
            found = [] if partition is None else list(partition.values()) if self.range_key_attr else [partition]
        walked["items"] += len(found)
        return found

    Table.query, Table.all_items = keyed_query, query_items  # type: ignore[method-assign]
    _installed.append((query, all_items))


RECORD_MEMBERS = frozenset({"eventID", "eventName", "eventVersion", "eventSource", "awsRegion", "dynamodb"})
STREAM_RECORD_MEMBERS = frozenset(
    {"ApproximateCreationDateTime", "Keys", "NewImage", "OldImage", "SequenceNumber", "SizeBytes", "StreamViewType"}
)


def fast_records(result: Any) -> str | None:
    """GetRecords' answer as moto's serializer would write it, or None where it must write it."""
    from moto.core.serialize import TimestampSerializer

    if not isinstance(result, dict) or set(result) != {"NextShardIterator", "Records"}:
        return None
    records = []
    for record in result["Records"]:
        if not isinstance(record, dict) or not set(record) <= RECORD_MEMBERS:
            return None
        change = record.get("dynamodb")
        if not isinstance(change, dict) or not set(change) <= STREAM_RECORD_MEMBERS:
            return None
        created = change.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            change = {**change, "ApproximateCreationDateTime": TimestampSerializer._timestamp_unixtimestamp(created)}
        records.append({**record, "dynamodb": change})
    answer = {"NextShardIterator": result["NextShardIterator"], "Records": records}
    return json.dumps(answer, separators=(",", ":")) if _plain(answer) else None


def _install_stream_records() -> None:
    from moto.core.responses import ActionResult
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    get_records = DynamoDBStreamsHandler.get_records

    class RecordsResult(ActionResult):
        def execute_result(self, context: Any) -> Any:
            body = fast_records(self.result)
            if body is None:
                answered["moto"] += 1
                return super().execute_result(context)
            answered["fast"] += 1
            status, headers, _ = ActionResult({"NextShardIterator": "", "Records": []}).execute_result(context)
            return status, headers, body

    def records(self: Any) -> Any:
        return RecordsResult(get_records(self).result)

    DynamoDBStreamsHandler.get_records = records  # type: ignore[method-assign]
    _installed.append(get_records)


def uninstall() -> None:
    """Back to moto's serializer (the tests compare the two)."""
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoResult
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    if _installed:
        DynamoDBStreamsHandler.get_records = _installed.pop()  # type: ignore[method-assign]
        Table.query, Table.all_items = _installed.pop()  # type: ignore[method-assign]
        DynamoResult.execute_result = _installed.pop()  # type: ignore[method-assign]


@contextmanager
def motos_own() -> Iterator[None]:
    """moto's own answers inside (what the tests compare with; they may install() inside), then
    installed or not as before."""
    was_installed = bool(_installed)
    uninstall()
    try:
        yield
    finally:
        (install if was_installed else uninstall)()


__all__ = ["ITEM_OPERATIONS", "answered", "walked", "fast_answer", "fast_records", "install", "motos_own", "uninstall"]
