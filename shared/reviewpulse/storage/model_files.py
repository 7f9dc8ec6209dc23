"""Tenants' model artifacts in the data bucket (analysis/models/store.ModelStore on S3):

models/<tenant>/<model_id>/<version>.zip   one artifact per version (analysis/models/artifact.py)
models/<tenant>/<model_id>/current.json    {"version": …}: the version new work uses

A version's object is written before the pointer that names it, so a reader never finds a
pointer to nothing; versions are never overwritten (a retrained model is a new version).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from reviewpulse.analysis.models.names import is_valid_name
from reviewpulse.errors import ModelNotFound
from reviewpulse.storage import layout
from reviewpulse.storage.objects import BucketObjects

if TYPE_CHECKING:
    from reviewpulse.analysis.models.artifact import ModelArtifact

_MISSING = ("404", "NoSuchKey", "NotFound")


class ModelFiles(BucketObjects):
    def put(self, tenant: str, artifact: ModelArtifact) -> str:
        """Store the artifact under its id and version, and make that version current. Its key."""
        if not (is_valid_name(artifact.model_id) and is_valid_name(artifact.version)):
            raise ValueError("an artifact is stored under a valid model id and version")
        key = layout.model_key(tenant, artifact.model_id, artifact.version)
        self._s3.put_object(Bucket=self.bucket, Key=key, Body=artifact.to_bytes(), ContentType="application/zip")
        self._s3.put_object(
            Bucket=self.bucket,
            Key=layout.model_pointer_key(tenant, artifact.model_id),
            Body=json.dumps({"version": artifact.version}).encode(),
            ContentType="application/json",
        )
        return key

    def current_version(self, tenant: str, model_id: str) -> str:
        if not is_valid_name(model_id):
            raise ModelNotFound("options.model_id names no model of yours")
        body = self._get(layout.model_pointer_key(tenant, model_id))
        try:
            return str(json.loads(body)["version"])
        except (ValueError, KeyError, TypeError):
            raise ModelNotFound("options.model_id names no model of yours") from None

    def load(self, tenant: str, model_id: str, version: str | None = None) -> ModelArtifact:
        version = version or self.current_version(tenant, model_id)
        if not (is_valid_name(model_id) and is_valid_name(version)):
            raise ModelNotFound("options.model_id names no model of yours")
        # Imported when a model is loaded: its features load VADER's lexicon, which the analyzers
        # that hold this store (for tasks on a tenant's model) must not pay for at every cold start.
        from reviewpulse.analysis.models.artifact import ArtifactInvalid, ModelArtifact

        try:
            artifact = ModelArtifact.from_bytes(self._get(layout.model_key(tenant, model_id, version)))
        except ArtifactInvalid:
            raise ModelNotFound(f"model {model_id} version {version} cannot be read") from None
        # The key is the truth: an artifact copied under another id still answers as this one.
        return artifact.with_identity(model_id, version)

    def delete(self, tenant: str, model_id: str) -> int:
        """Every version and the pointer. How many objects were deleted."""
        return self._delete_prefix(layout.model_prefix(tenant, model_id))

    def _get(self, key: str) -> bytes:
        try:
            return self._s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                raise ModelNotFound("options.model_id names no model of yours") from None
            raise
