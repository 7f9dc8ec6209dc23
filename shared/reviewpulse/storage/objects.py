"""What input and result files share: the bucket, its client, HeadObject and deleting a prefix."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError


@dataclass(frozen=True)
class ObjectInfo:
    etag: str
    version: str
    size: int
    metadata: dict[str, str]  # the object's user metadata (x-amz-meta-*), kept apart


class BucketObjects:
    def __init__(self, bucket: str, s3: Any) -> None:
        self.bucket = bucket
        self._s3 = s3

    def _head(self, key: str) -> ObjectInfo | None:
        try:
            head = self._s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return ObjectInfo(
            etag=head.get("ETag", "").strip('"'),
            version=head.get("VersionId") or "",
            size=int(head.get("ContentLength", 0)),
            metadata=dict(head.get("Metadata", {})),
        )

    def erase_tenant(self, tenant: str, areas: tuple[str, ...]) -> dict[str, int]:
        """Delete every object of the tenant in each area (`<area>/<tenant>/`); how many per area."""
        from reviewpulse.storage.layout import tenant_prefix

        return {area: self._delete_prefix(tenant_prefix(area, tenant)) for area in areas}

    def count_tenant(self, tenant: str, areas: tuple[str, ...]) -> dict[str, int]:
        """How many objects the tenant has in each area."""
        from reviewpulse.storage.layout import tenant_prefix

        paginator = self._s3.get_paginator("list_objects_v2")
        return {
            area: sum(
                page.get("KeyCount", 0)
                for page in paginator.paginate(Bucket=self.bucket, Prefix=tenant_prefix(area, tenant))
            )
            for area in areas
        }

    def _delete_prefix(self, prefix: str) -> int:
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
