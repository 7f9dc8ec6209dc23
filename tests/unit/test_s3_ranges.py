"""The local stack's moto server answers ranged reads of large objects as S3 does (s3_ranges):
the bytes of the range, its headers, and S3's errors, while streaming them from storage."""

from __future__ import annotations

import os
import random

import boto3
import pytest
from botocore.exceptions import ClientError
from reviewpulse_tools.local.s3_ranges import SMALLEST
from reviewpulse_tools.local.stack import AwsServer, aws_environment, free_port

BUCKET = "ranges-test-bucket"


@pytest.fixture(scope="module")
def s3():
    port = free_port()
    server = AwsServer("127.0.0.1", port)
    saved = dict(os.environ)
    os.environ.update(aws_environment(f"http://127.0.0.1:{port}"))
    try:
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client
    finally:
        os.environ.clear()
        os.environ.update(saved)
        server.stop()


@pytest.fixture(scope="module")
def large(s3) -> bytes:
    # Given an object larger than the size from which ranges are streamed, of varied bytes
    body = random.Random(7).randbytes(3 * SMALLEST + 12345)
    s3.put_object(Bucket=BUCKET, Key="results/large.jsonl", Body=body, ContentType="application/x-ndjson")
    return body


@pytest.mark.parametrize(
    ("asked", "first", "last"),
    [
        ("bytes=0-", 0, None),
        ("bytes=1000000-", 1_000_000, None),
        ("bytes=5-70000", 5, 70_000),
        ("bytes=-300", -300, None),
        ("bytes=3000000-99999999", 3_000_000, None),
    ],
)
def test_a_range_of_a_large_object_is_its_bytes_with_s3s_headers(s3, large, asked, first, last):
    # When a range of it is read
    response = s3.get_object(Bucket=BUCKET, Key="results/large.jsonl", Range=asked)
    # Then it is exactly those bytes, with the range, the size and the object's headers
    expected = large[first:] if last is None else large[first : last + 1]
    assert response["Body"].read() == expected
    begin = first if first >= 0 else len(large) + first
    assert response["ContentRange"] == f"bytes {begin}-{begin + len(expected) - 1}/{len(large)}"
    assert response["ContentLength"] == len(expected)
    assert response["ContentType"] == "application/x-ndjson"
    assert response["ETag"] == s3.head_object(Bucket=BUCKET, Key="results/large.jsonl")["ETag"]


def test_a_reader_that_stops_early_leaves_the_object_readable(s3, large):
    # Given a read from an offset that stops after a little (as a results page does)
    body = s3.get_object(Bucket=BUCKET, Key="results/large.jsonl", Range="bytes=100-")["Body"]
    assert body.read(1000) == large[100:1100]
    body.close()
    # Then the next read gets its own bytes
    again = s3.get_object(Bucket=BUCKET, Key="results/large.jsonl", Range="bytes=2000000-2000009")
    assert again["Body"].read() == large[2_000_000:2_000_010]


def test_s3s_errors_are_kept(s3, large):
    # A range past the end: 416 InvalidRange
    with pytest.raises(ClientError) as past:
        s3.get_object(Bucket=BUCKET, Key="results/large.jsonl", Range=f"bytes={len(large)}-")
    assert past.value.response["Error"]["Code"] == "InvalidRange"
    # Another version than the one asked for: 412
    with pytest.raises(ClientError) as changed:
        s3.get_object(Bucket=BUCKET, Key="results/large.jsonl", Range="bytes=0-", IfMatch='"0123"')
    assert changed.value.response["Error"]["Code"] in ("PreconditionFailed", "412")
    # No such key: 404
    with pytest.raises(ClientError) as missing:
        s3.get_object(Bucket=BUCKET, Key="results/none.jsonl", Range="bytes=0-")
    assert missing.value.response["Error"]["Code"] == "NoSuchKey"


def test_a_replaced_object_is_read_as_it_is_now(s3, large):
    # Given the object replaced by another of a different size
    other = random.Random(8).randbytes(2 * SMALLEST)
    s3.put_object(Bucket=BUCKET, Key="results/replaced.jsonl", Body=large)
    s3.put_object(Bucket=BUCKET, Key="results/replaced.jsonl", Body=other)
    # When a range is read, Then it is the new object's bytes
    response = s3.get_object(Bucket=BUCKET, Key="results/replaced.jsonl", Range="bytes=10-")
    assert response["Body"].read() == other[10:]


def test_a_range_is_streamed_from_storage_not_read_whole(s3, large, monkeypatch):
    # Given moto's whole-object read, counted
    from moto.s3.models import FakeKey

    whole_reads = []
    value = FakeKey.value

    def counted(self):
        whole_reads.append(self.name)
        return value.fget(self)

    monkeypatch.setattr(FakeKey, "value", property(counted, value.fset))
    # When a page is read from an offset
    body = s3.get_object(Bucket=BUCKET, Key="results/large.jsonl", Range="bytes=500000-")["Body"]
    assert body.read(4096) == large[500_000:504_096]
    body.close()
    # Then the object was never read whole (moto's GET would have)
    assert "results/large.jsonl" not in whole_reads
