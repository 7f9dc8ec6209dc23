"""The local stack's AWS process answers DynamoDB's item operations with JSON written directly
(tools/reviewpulse_tools/local/dynamodb.py) instead of moto's serializer: a client must read the
same answers either way, for items with every attribute type the product stores, binary ones
(which only moto's serializer writes) included."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws
from reviewpulse_tools.local import dynamodb

ITEM = {
    "tenant": {"S": "acme"},
    "task_id": {"S": "t1"},
    "total": {"N": "12"},
    "ratio": {"N": "0.25"},
    "done": {"BOOL": False},
    "notes": {"NULL": True},
    "options": {"M": {"engine": {"S": "lexicon"}, "min_confidence": {"N": "0.6"}, "tags": {"SS": ["a", "b"]}}},
    "headline": {"M": {"themes": {"L": [{"M": {"name": {"S": "battery"}, "count": {"N": "3"}}}, {"N": "7"}]}}},
    "counts": {"NS": ["1", "2"]},
}
BINARY = {**ITEM, "task_id": {"S": "t2"}, "blob": {"B": b"\x00\xffbytes"}}


def _conversation(ddb: Any) -> list[Any]:
    """One of each item operation the product makes, and what the client read from each."""
    table = "tasks"
    key = {"tenant": {"S": "acme"}, "task_id": {"S": "t1"}}
    answers = [
        ddb.put_item(TableName=table, Item=ITEM, ReturnValues="ALL_OLD"),
        ddb.put_item(TableName=table, Item=BINARY),
        ddb.get_item(TableName=table, Key=key),
        ddb.get_item(TableName=table, Key={"tenant": {"S": "acme"}, "task_id": {"S": "t2"}}),
        ddb.get_item(TableName=table, Key={"tenant": {"S": "acme"}, "task_id": {"S": "none"}}),
        ddb.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET #t = #t + :one",
            ExpressionAttributeNames={"#t": "total"},
            ExpressionAttributeValues={":one": {"N": "1"}},
            ReturnValues="ALL_NEW",
        ),
        ddb.query(
            TableName=table,
            KeyConditionExpression="tenant = :t",
            ExpressionAttributeValues={":t": {"S": "acme"}},
            Limit=1,
            ScanIndexForward=False,
        ),
        ddb.query(
            TableName=table, KeyConditionExpression="tenant = :t", ExpressionAttributeValues={":t": {"S": "acme"}}
        ),
        ddb.scan(TableName=table, ProjectionExpression="task_id, options"),
        ddb.batch_get_item(RequestItems={table: {"Keys": [key]}}),
        ddb.transact_get_items(TransactItems=[{"Get": {"TableName": table, "Key": key}}]),
        ddb.delete_item(TableName=table, Key=key, ReturnValues="ALL_OLD"),
    ]
    for answer in answers:
        answer.pop("ResponseMetadata", None)
    return answers


def create_tasks_table(ddb: Any, **extra: Any) -> dict[str, Any]:
    """A tasks table keyed as the product's (tenant, task_id), on demand."""
    return ddb.create_table(
        TableName="tasks",
        KeySchema=[
            {"AttributeName": "tenant", "KeyType": "HASH"},
            {"AttributeName": "task_id", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "tenant", "AttributeType": "S"},
            {"AttributeName": "task_id", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )


@pytest.fixture
def converse() -> Iterator[Callable[[], list[Any]]]:
    def run() -> list[Any]:
        with mock_aws():
            ddb = boto3.client("dynamodb", region_name="us-east-1")
            create_tasks_table(ddb)
            return _conversation(ddb)

    with dynamodb.motos_own():  # and installed again after the test if the suite had it
        yield run


def test_item_answers_read_the_same_with_json_written_directly_as_with_motos_serializer(converse):
    # Given the answers a client reads with moto's own serializer
    expected = converse()
    # When the same conversation runs with the item answers written directly
    dynamodb.install()
    before = dict(dynamodb.answered)
    answers = converse()
    # Then the client reads the same answers
    assert answers == expected
    # and most were written directly, the binary item's through moto's serializer
    fast = dynamodb.answered["fast"] - before["fast"]
    slow = dynamodb.answered["moto"] - before["moto"]
    assert fast >= len(expected) - 4 and slow >= 1


def _queries(ddb: Any) -> list[Any]:
    """Queries as the product makes them, on a table of several tenants with an index: by key with
    and without a range condition, newest first, paged; on the index, paged both ways."""
    for n in range(30):
        tenant = f"t{n % 3}"
        ddb.put_item(
            TableName="tasks",
            Item={
                "tenant": {"S": tenant},
                "task_id": {"S": f"task-{n:03d}"},
                # Several tasks share a creation time: the index orders them by the table's key.
                "created_at": {"S": f"2026-12-06T04:{n // 4:02d}"},
                "status": {"S": "done" if n % 2 else "running"},
            },
        )
    answers = []
    for query in (
        {"KeyConditionExpression": "tenant = :t", "ExpressionAttributeValues": {":t": {"S": "t1"}}},
        {
            "KeyConditionExpression": "tenant = :t AND task_id > :a",
            "ExpressionAttributeValues": {":t": {"S": "t2"}, ":a": {"S": "task-010"}},
            "ScanIndexForward": False,
        },
        {
            "KeyConditionExpression": "tenant = :t",
            "FilterExpression": "#s = :s",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {":t": {"S": "t0"}, ":s": {"S": "done"}},
        },
        {"KeyConditionExpression": "tenant = :t", "ExpressionAttributeValues": {":t": {"S": "nobody"}}},
        {
            "IndexName": "by_created",
            "KeyConditionExpression": "tenant = :t",
            "ExpressionAttributeValues": {":t": {"S": "t1"}},
            "ScanIndexForward": False,
        },
        {
            "IndexName": "by_created",
            "KeyConditionExpression": "tenant = :t AND created_at < :c",
            "ExpressionAttributeValues": {":t": {"S": "t0"}, ":c": {"S": "2026-12-06T04:05"}},
        },
    ):
        pages, start = [], None
        while True:
            page = ddb.query(TableName="tasks", Limit=3, **query, **({"ExclusiveStartKey": start} if start else {}))
            page.pop("ResponseMetadata", None)
            pages.append(page)
            start = page.get("LastEvaluatedKey")
            if not start:
                break
        answers.append(pages)
    return answers


@pytest.fixture
def ask() -> Iterator[Callable[[], list[Any]]]:
    def run() -> list[Any]:
        with mock_aws():
            ddb = boto3.client("dynamodb", region_name="us-east-1")
            ddb.create_table(
                TableName="tasks",
                KeySchema=[
                    {"AttributeName": "tenant", "KeyType": "HASH"},
                    {"AttributeName": "task_id", "KeyType": "RANGE"},
                ],
                AttributeDefinitions=[
                    {"AttributeName": "tenant", "AttributeType": "S"},
                    {"AttributeName": "task_id", "AttributeType": "S"},
                    {"AttributeName": "created_at", "AttributeType": "S"},
                ],
                GlobalSecondaryIndexes=[
                    {
                        "IndexName": "by_created",
                        "KeySchema": [
                            {"AttributeName": "tenant", "KeyType": "HASH"},
                            {"AttributeName": "created_at", "KeyType": "RANGE"},
                        ],
                        "Projection": {"ProjectionType": "ALL"},
                    }
                ],
                BillingMode="PAY_PER_REQUEST",
            )
            return _queries(ddb)

    with dynamodb.motos_own():
        yield run


def test_queries_read_the_same_when_a_keyed_query_reads_only_its_partition(ask):
    # Given moto's own answers to table and index queries, paged, over three tenants' tasks
    expected = ask()
    # When the same queries run with the local stack's Query path
    dynamodb.install()
    before = dynamodb.walked["items"]
    answers = ask()
    # Then every page reads the same
    assert answers == expected
    assert any(len(pages) > 1 for pages in answers)  # paging was exercised
    # and the table queries read their tenant's ten tasks, not the table's thirty, while the
    # index queries (which read the whole table, as moto's index holds no partitions) read 30 a page
    table_pages = sum(len(pages) for pages in answers[:4])
    index_pages = sum(len(pages) for pages in answers[4:])
    assert dynamodb.walked["items"] - before == 10 * (table_pages - len(answers[3])) + 30 * index_pages


def test_stream_records_read_the_same_with_json_written_directly_as_with_motos_serializer():
    with mock_aws():
        # Given a table with a stream of old and new images, and an item written, changed and
        # deleted (every attribute type the product stores, binary included)
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        arn = create_tasks_table(
            ddb, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
        )["TableDescription"]["LatestStreamArn"]
        key = {"tenant": {"S": "acme"}, "task_id": {"S": "t1"}}
        ddb.put_item(TableName="tasks", Item=ITEM)
        ddb.update_item(
            TableName="tasks",
            Key=key,
            UpdateExpression="SET done = :d",
            ExpressionAttributeValues={":d": {"BOOL": True}},
        )
        ddb.put_item(TableName="tasks", Item=BINARY)
        ddb.delete_item(TableName="tasks", Key=key)
        # (calls that name a stream ARN would otherwise go to an account's endpoint)
        config = Config(account_id_endpoint_mode="disabled")
        streams = boto3.client("dynamodbstreams", region_name="us-east-1", config=config)
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]

        def read(limit: int) -> list[Any]:
            iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
            return streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=limit)["Records"]

        # When the stream is read with moto's serializer, then with the answer written directly
        with dynamodb.motos_own():
            expected = [read(2), read(100)]
            dynamodb.install()
            before = dict(dynamodb.answered)
            answers = [read(2), read(100)]
    # Then the client reads the same records: the first two written directly, and the batch that
    # holds the binary item through moto's serializer
    assert [len(a) for a in answers] == [2, 4]
    assert answers == expected
    assert dynamodb.answered["fast"] - before["fast"] == 1
    assert dynamodb.answered["moto"] - before["moto"] == 1
