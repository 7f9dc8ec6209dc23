"""Result files: per-chunk parts, the merged JSONL/CSV objects, outgoing copies for drops, pages
of lines by byte offset, presigned links, and deleting a task's results."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO, Any

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from reviewpulse.results.model import ItemResult
from reviewpulse.storage import layout
from reviewpulse.storage.objects import BucketObjects

# The merged files go up in 5 MiB parts (S3's smallest) one at a time, with at most two parts in
# memory (the next one is read while one is sent): boto3's default holds up to ten (eleven) 8 MiB
# parts of an open file in memory at once, so the finalizer's peak grew with the file (+110 MiB
# uploading a 113 MiB results file; +17 MiB with this, +12 MiB for an 11 MiB one). One part at a
# time costs a few seconds on a million rows' files, once per task.
MERGED_UPLOAD = TransferConfig(multipart_chunksize=5 * 1024 * 1024, max_concurrency=1)
MERGED_UPLOAD.max_in_memory_upload_chunks = 1  # s3transfer's setting; boto3's constructor does not take it

# User metadata on an outgoing copy: the task that wrote it, the only one that may delete it.
TASK_METADATA = "task-id"


class NotALineStart(ValueError):
    """A byte offset into a JSONL object that is not where a line starts."""


class ResultFiles(BucketObjects):
    # -- per-chunk parts -----------------------------------------------------------------------

    def put_part(self, tenant: str, task_id: str, chunk: int, attempt: str, results: Iterable[ItemResult]) -> None:
        body = "".join(result.to_json() + "\n" for result in results).encode()
        self._s3.put_object(
            Bucket=self.bucket,
            Key=layout.part_key(tenant, task_id, chunk, attempt),
            Body=body,
            ContentType="application/x-ndjson",
        )

    def read_part(self, tenant: str, task_id: str, chunk: int, attempt: str) -> list[ItemResult]:
        body = self._s3.get_object(Bucket=self.bucket, Key=layout.part_key(tenant, task_id, chunk, attempt))["Body"]
        return [ItemResult.model_validate_json(line) for line in body.iter_lines() if line.strip()]

    # -- Batch API mode: chunks waiting for their answers --------------------------------------

    def put_waiting_chunk(self, tenant: str, task_id: str, chunk: int, body: str) -> None:
        self._s3.put_object(
            Bucket=self.bucket,
            Key=layout.waiting_chunk_key(tenant, task_id, chunk),
            Body=body.encode(),
            ContentType="application/json",
        )

    def read_waiting_chunk(self, tenant: str, task_id: str, chunk: int) -> bytes:
        return self._s3.get_object(Bucket=self.bucket, Key=layout.waiting_chunk_key(tenant, task_id, chunk))[
            "Body"
        ].read()

    # -- merged results ------------------------------------------------------------------------

    def put_file(self, key: str, file: IO[bytes], content_type: str) -> None:
        file.seek(0)
        self._s3.upload_fileobj(file, self.bucket, key, ExtraArgs={"ContentType": content_type}, Config=MERGED_UPLOAD)

    def copy(self, source_key: str, target_key: str, *, task_id: str, content_type: str | None = None) -> None:
        """Copy an object, recording which task wrote the copy (a later drop at the same path
        writes the same key; only the writer may delete it). Replacing the metadata drops the
        source's Content-Type: pass `content_type` to keep one."""
        self._s3.copy_object(
            Bucket=self.bucket,
            Key=target_key,
            CopySource={"Bucket": self.bucket, "Key": source_key},
            MetadataDirective="REPLACE",
            Metadata={TASK_METADATA: task_id},
            **({"ContentType": content_type} if content_type else {}),
        )

    def put_json(self, key: str, body: bytes, *, task_id: str | None) -> None:
        """A small JSON object (a drop's receipt), recording which task wrote it, if any."""
        self._s3.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=body,
            ContentType="application/json",
            Metadata={TASK_METADATA: task_id} if task_id else {},
        )

    def read_object(self, key: str) -> bytes | None:
        """A whole (small) object, such as a baseline's insights.json, or None if there is none."""
        try:
            return self._s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def delete_if_written_by(self, key: str, task_id: str) -> bool:
        info = self._head(key)
        if info is None or info.metadata.get(TASK_METADATA) != task_id:
            return False
        self._s3.delete_object(Bucket=self.bucket, Key=key)
        return True

    def delete_results(self, tenant: str, task_id: str) -> int:
        """Delete a task's parts and merged results. Returns how many objects."""
        return self._delete_prefix(layout.results_prefix(tenant, task_id))

    def read_lines(
        self, key: str, *, offset: int, limit: int, max_bytes: int | None = None
    ) -> tuple[list[bytes], int | None]:
        """Up to `limit` lines of a JSONL object from byte `offset` (fewer once they reach
        `max_bytes`, but always at least one), undecoded; the offset after them, or None at the
        end. NotALineStart when `offset` is not the start of a line (or is past the end)."""
        # From the byte before the offset, to see that it ends a line.
        start = offset - 1 if offset > 0 else 0
        try:
            response = self._s3.get_object(Bucket=self.bucket, Key=key, Range=f"bytes={start}-")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "InvalidRange":
                # Past the end: an empty object read from its start, or an offset never issued.
                if offset > 0:
                    raise NotALineStart(offset) from None
                return [], None
            raise
        lines: list[bytes] = []
        position = start
        body = response["Body"]
        try:
            raw_lines = _raw_lines(body)
            if offset > 0:
                previous = next(raw_lines, b"")
                if previous != b"\n":
                    raise NotALineStart(offset)
                position += 1
            for raw in raw_lines:
                position += len(raw)
                if raw.strip():
                    lines.append(raw)
                if len(lines) == limit or (max_bytes is not None and position - offset >= max_bytes):
                    break
            else:
                return lines, None
        finally:
            body.close()
        size = _object_size(response)
        return lines, (position if size is None or position < size else None)

    def presigned_get(self, key: str, expires_in: int) -> str:
        return self._s3.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_in
        )


def _raw_lines(body: Any, chunk_size: int = 64 * 1024) -> Iterator[bytes]:
    """Lines with their b"\\n", so that byte offsets add up exactly."""
    pending = b""
    for piece in body.iter_chunks(chunk_size):
        pending += piece
        *complete, pending = pending.split(b"\n")
        for line in complete:
            yield line + b"\n"
    if pending:
        yield pending


def _object_size(response: dict[str, Any]) -> int | None:
    content_range = response.get("ContentRange", "")
    if "/" in content_range:
        total = content_range.rsplit("/", 1)[1]
        return int(total) if total.isdigit() else None
    return None
