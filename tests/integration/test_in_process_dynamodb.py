"""The tests' in-process moto writes a DynamoDB item atomically, as DynamoDB does (tests/conftest.py
serializes its requests): a conditional update that two threads race is won by exactly one."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import boto3
from moto.dynamodb.models import UpdateExpressionExecutor


def test_two_racing_conditional_updates_of_one_item_let_exactly_one_win(stack, monkeypatch):
    # Given a task item, and moto slowed between an update's condition check and its write (the
    # window a busy machine opens by chance, held open here so that two updates always meet in it)
    table = stack.ref("TasksTable")
    dynamodb = boto3.client("dynamodb")
    key = {"tenant": {"S": "acme"}, "task_id": {"S": "race"}}
    dynamodb.put_item(TableName=table, Item={**key, "status": {"S": "processing"}})
    execute = UpdateExpressionExecutor.execute

    def slow_execute(self, *args, **kwargs):
        time.sleep(0.05)
        return execute(self, *args, **kwargs)

    monkeypatch.setattr(UpdateExpressionExecutor, "execute", slow_execute)

    def finish(who: str) -> bool:
        try:
            dynamodb.update_item(
                TableName=table,
                Key=key,
                UpdateExpression="SET #s = :ready, finished_by = :who",
                ConditionExpression="#s = :processing",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":ready": {"S": "ready"},
                    ":processing": {"S": "processing"},
                    ":who": {"S": who},
                },
            )
        except dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    # When two threads make it ready at once
    with ThreadPoolExecutor(max_workers=2) as pool:
        won = list(pool.map(finish, ["first", "second"]))

    # Then exactly one of them did, and the item says which
    assert sorted(won) == [False, True]
    item = dynamodb.get_item(TableName=table, Key=key)["Item"]
    assert item["finished_by"]["S"] == ["first", "second"][won.index(True)]
