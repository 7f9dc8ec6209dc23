"""Input files: reading what was uploaded or dropped, and presigned POSTs to upload them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from reviewpulse.storage import layout
from reviewpulse.storage.objects import BucketObjects, ObjectInfo


class SourceChanged(Exception):
    """The input object is no longer the one the task was split from."""


class TooBig(Exception):
    """A small object that is not small."""


class InputFiles(BucketObjects):
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

    def read_small(self, key: str, max_bytes: int) -> bytes | None:
        """A small object whole (a drop's options sidecar); None if there is none. TooBig if it
        holds more than `max_bytes` (only that much is read)."""
        try:
            body = self._s3.get_object(Bucket=self.bucket, Key=key)["Body"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        content = body.read(max_bytes + 1)
        body.close()
        if len(content) > max_bytes:
            raise TooBig(f"the object holds more than {max_bytes} bytes")
        return content

    def source_info(self, key: str) -> ObjectInfo | None:
        return self._head(key)

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

    def delete_upload(self, tenant: str, task_id: str) -> int:
        """Delete a task's uploaded file(s). Returns how many objects."""
        return self._delete_prefix(layout.upload_prefix(tenant, task_id))
