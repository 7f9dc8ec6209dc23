"""S3 access for inputs and results. The only module that knows the bucket's layout.

uploads/<tenant>/<task_id>/<filename>   files uploaded through the presigned POST
incoming/<tenant>/<path>                files dropped by other systems
results/<tenant>/<task_id>/parts/…      one JSONL part per chunk (rewritten whole on retry)
results/<tenant>/<task_id>/results.*    merged results, JSONL and CSV
results/<tenant>/<task_id>/conversations.jsonl   per-conversation summaries, for chat conversations
results/<tenant>/<task_id>/insights.json         segments, time, aspects (and themes, comparison)
results/<tenant>/<task_id>/report.html           the self-contained HTML report
outgoing/<tenant>/<path>.results.*      copies for dropped files, beside their input's path
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import IO, Any

from botocore.exceptions import ClientError

from reviewpulse.results.model import ItemResult

UPLOADS = "uploads"
TASK_METADATA = "task-id"
INCOMING = "incoming"
RESULTS = "results"
OUTGOING = "outgoing"


class NotALineStart(ValueError):
    """A byte offset into a JSONL object that is not where a line starts."""


class SourceChanged(Exception):
    """The input object is no longer the one the task was split from."""


@dataclass(frozen=True)
class SourceInfo:
    etag: str
    version: str
    size: int
    metadata: dict[str, str]  # the object's user metadata (x-amz-meta-*), kept apart


@dataclass(frozen=True)
class SourceObject:
    """Where an input file came from, parsed from an S3 key."""

    kind: str  # UPLOADS or INCOMING
    tenant: str
    key: str
    task_id: str | None  # known for uploads; derived for drops
    filename: str
    relative_path: str  # for drops: the path under incoming/<tenant>/


def parse_source_key(key: str) -> SourceObject | None:
    parts = key.split("/")
    if len(parts) == 4 and parts[0] == UPLOADS and all(parts[1:]):
        return SourceObject(UPLOADS, parts[1], key, parts[2], parts[3], parts[3])
    if len(parts) >= 3 and parts[0] == INCOMING and parts[1] and parts[-1]:
        return SourceObject(INCOMING, parts[1], key, None, parts[-1], "/".join(parts[2:]))
    return None


def upload_key(tenant: str, task_id: str, filename: str) -> str:
    return f"{UPLOADS}/{tenant}/{task_id}/{filename}"


def part_key(tenant: str, task_id: str, chunk: int, attempt: str) -> str:
    """Each attempt at a chunk writes its own part; the task records which attempt counted."""
    return f"{RESULTS}/{tenant}/{task_id}/parts/part-{chunk:06d}-{attempt}.jsonl"


def task_prefixes(tenant: str, task_id: str) -> tuple[str, str]:
    """Where a task's own data lives: its upload and its results."""
    return f"{UPLOADS}/{tenant}/{task_id}/", f"{RESULTS}/{tenant}/{task_id}/"


def results_keys(tenant: str, task_id: str) -> tuple[str, str]:
    prefix = f"{RESULTS}/{tenant}/{task_id}/results"
    return f"{prefix}.jsonl", f"{prefix}.csv"


def conversations_key(tenant: str, task_id: str) -> str:
    return f"{RESULTS}/{tenant}/{task_id}/conversations.jsonl"


def insights_key(tenant: str, task_id: str) -> str:
    return f"{RESULTS}/{tenant}/{task_id}/insights.json"


def outgoing_insights_key(source: SourceObject) -> str:
    return f"{OUTGOING}/{source.tenant}/{source.relative_path}.insights.json"


def report_key(tenant: str, task_id: str) -> str:
    return f"{RESULTS}/{tenant}/{task_id}/report.html"


def outgoing_report_key(source: SourceObject) -> str:
    return f"{OUTGOING}/{source.tenant}/{source.relative_path}.report.html"


def outgoing_keys(source: SourceObject) -> tuple[str, str, str]:
    """Where a drop's results are delivered: JSONL, CSV and, for chat conversations, their summaries."""
    prefix = f"{OUTGOING}/{source.tenant}/{source.relative_path}"
    return f"{prefix}.results.jsonl", f"{prefix}.results.csv", f"{prefix}.conversations.jsonl"


class ResultStore:
    def __init__(self, bucket: str, s3: Any) -> None:
        self.bucket = bucket
        self._s3 = s3

    # -- inputs --------------------------------------------------------------------------------

    def open_source(self, key: str, etag: str | None = None) -> Any:
        """A streaming body of the input file (read in pieces, never whole). With `etag`, only
        that version of it: SourceChanged if the object was replaced since."""
        arguments = {"Bucket": self.bucket, "Key": key, **({"IfMatch": f'"{etag}"'} if etag else {})}
        try:
            return self._s3.get_object(**arguments)["Body"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("PreconditionFailed", "412"):
                raise SourceChanged(f"the input file was replaced after it was split (expected ETag {etag})") from None
            raise

    def source_info(self, key: str) -> SourceInfo | None:
        try:
            head = self._s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return SourceInfo(
            etag=head.get("ETag", "").strip('"'),
            version=head.get("VersionId") or "",
            size=int(head.get("ContentLength", 0)),
            metadata=dict(head.get("Metadata", {})),
        )

    def presigned_upload(
        self, key: str, *, max_bytes: int, expires_in: int, metadata: dict[str, str]
    ) -> tuple[str, dict[str, str], datetime]:
        fields = {f"x-amz-meta-{name}": value for name, value in metadata.items()}
        conditions: list[Any] = [["content-length-range", 1, max_bytes]]
        conditions += [{name: value} for name, value in fields.items()]
        post = self._s3.generate_presigned_post(
            Bucket=self.bucket, Key=key, Fields=fields, Conditions=conditions, ExpiresIn=expires_in
        )
        expires_at = datetime.now(UTC) + timedelta(seconds=expires_in)
        return post["url"], post["fields"], expires_at

    # -- per-chunk parts -----------------------------------------------------------------------

    def put_part(self, tenant: str, task_id: str, chunk: int, attempt: str, results: Iterable[ItemResult]) -> None:
        body = "".join(result.to_json() + "\n" for result in results).encode()
        self._s3.put_object(
            Bucket=self.bucket,
            Key=part_key(tenant, task_id, chunk, attempt),
            Body=body,
            ContentType="application/x-ndjson",
        )

    def read_part(self, tenant: str, task_id: str, chunk: int, attempt: str) -> list[ItemResult]:
        body = self._s3.get_object(Bucket=self.bucket, Key=part_key(tenant, task_id, chunk, attempt))["Body"]
        return [ItemResult.model_validate_json(line) for line in body.iter_lines() if line.strip()]

    # -- merged results ------------------------------------------------------------------------

    def put_file(self, key: str, file: IO[bytes], content_type: str) -> None:
        file.seek(0)
        self._s3.upload_fileobj(file, self.bucket, key, ExtraArgs={"ContentType": content_type})

    def read_object(self, key: str) -> bytes | None:
        """A whole (small) object, or None if there is none."""
        try:
            return self._s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

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

    def delete_if_written_by(self, key: str, task_id: str) -> bool:
        info = self.source_info(key)
        if info is None or info.metadata.get(TASK_METADATA) != task_id:
            return False
        self._s3.delete_object(Bucket=self.bucket, Key=key)
        return True

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

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object under `prefix` (1,000 per call). Returns how many."""
        deleted = 0
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                response = self._s3.delete_objects(Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True})
                if response.get("Errors"):
                    # Quiet mode reports only failures; the caller must not go on as if purged.
                    raise RuntimeError(f"{len(response['Errors'])} objects under {prefix} could not be deleted")
                deleted += len(keys)
        return deleted

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
