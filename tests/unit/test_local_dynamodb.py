"""The local stack's AWS process answers DynamoDB's item operations with JSON written directly
(tools/reviewpulse_tools/local/dynamodb.py) instead of moto's serializer: a client must read the
same answers either way, for items with every attribute type the product stores, binary ones
(which only moto's serializer writes) included."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
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


@pytest.fixture
def converse() -> Iterator[Callable[[], list[Any]]]:
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
                ],
                BillingMode="PAY_PER_REQUEST",
            )
            return _conversation(ddb)

    yield run
    dynamodb.uninstall()


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
