"""Where the analyzer gets a tenant's model: a port, so that the engines know no bucket.

storage/model_files.py implements it on the data bucket (models/<tenant>/<model_id>/…); tests
may hand the engines any object with these two methods.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from reviewpulse.analysis.models.artifact import ModelArtifact


class ModelStore(Protocol):
    def current_version(self, tenant: str, model_id: str) -> str:
        """The version new work on this model uses; errors.ModelNotFound when the tenant has none."""
        ...

    def load(self, tenant: str, model_id: str, version: str | None = None) -> ModelArtifact:
        """The artifact of that version (the current one by default); errors.ModelNotFound when absent."""
        ...
