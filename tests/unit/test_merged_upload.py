"""The finalizer's merged files go up with a bounded number of parts in memory (result_files.put_file),
so its peak memory stays flat however large the task (issue 25, a million rows)."""

from __future__ import annotations

import io
import os
import random
import threading

import boto3
import pytest
from reviewpulse.storage.result_files import ResultFiles
from reviewpulse_tools.local.stack import AwsServer, aws_environment, free_port

BUCKET = "merged-upload-test-bucket"
MIB = 1024 * 1024


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


class PartsInMemory(io.BytesIO):
    """A file that counts the parts read out of it and not yet sent (UploadPart not yet answered)."""

    def __init__(self, data: bytes, part: int) -> None:
        super().__init__(data)
        self.part = part
        self.read_parts = self.sent = self.most = 0
        self.lock = threading.Lock()

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        if size is not None and size >= self.part:
            with self.lock:
                self.read_parts += 1
                self.most = max(self.most, self.read_parts - self.sent)
        return data

    def part_sent(self, **_: object) -> None:
        with self.lock:
            self.sent += 1


def test_a_large_merged_file_goes_up_whole_with_at_most_two_parts_in_memory(s3):
    # Given a merged file of seventeen 5 MiB parts (boto3's default would hold up to ten at once)
    data = random.Random(3).randbytes(85 * MIB)
    file = PartsInMemory(data, 5 * MIB)
    s3.meta.events.register("after-call.s3.UploadPart", file.part_sent)

    # When the finalizer's upload sends it
    ResultFiles(BUCKET, s3).put_file("results/t/task/results.jsonl", file, "application/x-ndjson")

    # Then it arrived whole, in parts, never more than two of them read and not yet sent (one
    # being sent, and the next one read while it waits)
    stored = s3.get_object(Bucket=BUCKET, Key="results/t/task/results.jsonl")
    assert stored["Body"].read() == data and stored["ContentType"] == "application/x-ndjson"
    assert file.sent >= 2
    assert file.most <= 2, file.most
