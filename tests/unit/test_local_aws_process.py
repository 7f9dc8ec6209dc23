"""The local stack's AWS runs in two processes (local/aws_process.py): DynamoDB's own, and every
other service's, which forwards the DynamoDB requests it gets. boto3 clients given DynamoDB's own
endpoint and clients that know only the general one see the same tables and streams."""

from __future__ import annotations

import os

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from reviewpulse_tools.bench.load_cpu import aws_requests, aws_table
from reviewpulse_tools.local.stack import AwsServer, aws_environment, free_port

TABLE = "aws-process-test-table"


@pytest.fixture(scope="module")
def aws():
    port = free_port()
    server = AwsServer("127.0.0.1", port)
    saved = dict(os.environ)
    os.environ.update(aws_environment(f"http://127.0.0.1:{port}"))
    try:
        yield server, f"http://127.0.0.1:{port}"
    finally:
        os.environ.clear()
        os.environ.update(saved)
        server.stop()


def client(service: str, endpoint: str):
    # account_id_endpoint_mode: calls that name a stream ARN would go to an account's endpoint.
    config = Config(account_id_endpoint_mode="disabled")
    return boto3.client(service, region_name="us-east-1", endpoint_url=endpoint, config=config)


def test_dynamodb_answers_from_its_own_process_and_through_the_general_endpoint(aws):
    server, general = aws
    # Given the two processes, and a client of each endpoint
    assert server.dynamodb_pid != server.pid
    assert server.dynamodb_endpoint != general
    direct, forwarded = client("dynamodb", server.dynamodb_endpoint), client("dynamodb", general)
    # When a table with a stream is made through the general endpoint and an item written to it
    forwarded.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    forwarded.put_item(TableName=TABLE, Item={"pk": {"S": "a"}, "n": {"N": "1"}})
    # Then DynamoDB's own process holds them, and a conditional write's refusal comes back whole
    assert direct.get_item(TableName=TABLE, Key={"pk": {"S": "a"}})["Item"]["n"] == {"N": "1"}
    with pytest.raises(ClientError) as refused:
        forwarded.put_item(TableName=TABLE, Item={"pk": {"S": "a"}}, ConditionExpression="attribute_not_exists(pk)")
    assert refused.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    # And the table's stream reads the same through either endpoint
    arn = direct.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    for endpoint in (server.dynamodb_endpoint, general):
        streams = client("dynamodbstreams", endpoint)
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
        records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
        assert [r["eventName"] for r in records] == ["INSERT"]


def test_the_environment_sends_boto3s_dynamodb_clients_to_their_process(aws):
    server, general = aws
    # Given the variables the stack gives its processes and the functions
    saved = dict(os.environ)
    os.environ.update({**aws_environment(general), **server.environment()})
    try:
        # When boto3 makes clients without an endpoint of their own
        clients = {name: boto3.client(name, region_name="us-east-1") for name in ("dynamodb", "dynamodbstreams", "sqs")}
    finally:
        os.environ.clear()
        os.environ.update(saved)
    # Then DynamoDB's and its streams' go to DynamoDB's process, the others to the general endpoint
    assert clients["dynamodb"].meta.endpoint_url == server.dynamodb_endpoint
    assert clients["dynamodbstreams"].meta.endpoint_url == server.dynamodb_endpoint
    assert clients["sqs"].meta.endpoint_url == general


def test_other_services_are_not_forwarded(aws):
    server, general = aws
    # Given a queue made through the general endpoint
    sqs = client("sqs", general)
    url = sqs.create_queue(QueueName="aws-process-test-queue")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    # When DynamoDB's own process is asked for it
    # Then it knows no such queue: SQS lives in the other process only
    with pytest.raises(ClientError):
        client("sqs", server.dynamodb_endpoint).get_queue_url(QueueName="aws-process-test-queue")
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "hello"


def test_each_process_counts_the_requests_it_answers_by_action(aws):
    server, general = aws
    # Given what each process has counted so far
    before_dynamodb, before_other = aws_requests([server.dynamodb_endpoint]), aws_requests([general])
    # When a table is made and read three times through the general endpoint, and a queue made
    ddb = client("dynamodb", general)
    ddb.create_table(
        TableName="census-table",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for _ in range(3):
        ddb.get_item(TableName="census-table", Key={"pk": {"S": "none"}})
    client("sqs", general).create_queue(QueueName="census-queue")
    after_dynamodb, after_other = aws_requests([server.dynamodb_endpoint]), aws_requests([general])

    # Then DynamoDB's process counted the reads, with their CPU and wall time, and the other
    # process counted the queue but not the DynamoDB requests it forwarded
    def added(before, after, name):
        return [a - b for a, b in zip(after.get(name, [0, 0, 0]), before.get(name, [0, 0, 0]), strict=True)]

    reads, cpu, wall = added(before_dynamodb, after_dynamodb, "DynamoDB GetItem")
    assert reads == 3 and 0 < cpu and 0 < wall
    assert added(before_dynamodb, after_dynamodb, "DynamoDB CreateTable")[0] == 1
    assert added(before_other, after_other, "SQS CreateQueue")[0] == 1
    assert not any(name.startswith("DynamoDB") for name in after_other)
    # and the load report's table names them, the costliest first
    table = aws_table(before_dynamodb, after_dynamodb)
    assert "DynamoDB GetItem" in table and "DynamoDB CreateTable" in table
