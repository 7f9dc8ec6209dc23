"""Chunks of a paused task, kept in the bucket until POST /v1/tasks/{id}/resume sends them again.

A budget may stay spent for days (until the next month): longer than SQS would keep redelivering
a message, so a chunk the budget turned away is parked here as its work-queue message body, and
its message is deleted. Parking one chunk twice writes the same key; resuming sends each parked
chunk once more, and the task counts each chunk once whatever arrives twice.
"""

from __future__ import annotations

from reviewpulse.storage import layout
from reviewpulse.storage.objects import BucketObjects


class PausedChunks(BucketObjects):
    def park(self, tenant: str, task_id: str, chunk: int, body: str) -> None:
        self._s3.put_object(
            Bucket=self.bucket,
            Key=layout.paused_chunk_key(tenant, task_id, chunk),
            Body=body.encode(),
            ContentType="application/json",
        )

    def parked(self, tenant: str, task_id: str) -> list[tuple[str, str]]:
        """(key, message body) of every chunk parked for the task."""
        found = []
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=layout.paused_prefix(tenant, task_id)):
            for item in page.get("Contents", []):
                body = self._s3.get_object(Bucket=self.bucket, Key=item["Key"])["Body"].read().decode()
                found.append((item["Key"], body))
        return found

    def remove(self, key: str) -> None:
        self._s3.delete_object(Bucket=self.bucket, Key=key)
