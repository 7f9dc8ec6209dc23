"""Where the analyzer gets a tenant's model: a port, so that the engines know no bucket.

storage/model_files.py implements it on the data bucket (models/<tenant>/<model_id>/…); tests
may hand the engines any object with these two methods.
"""

from __future__ import annotations

import re
from typing import Protocol

from reviewpulse.analysis.models.artifact import ModelArtifact

# A model id or version: a letter or digit, then letters, digits, `_`, `-` or `.` (no `/`: each is
# one segment of an object key).
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_NAME = re.compile(NAME_PATTERN)


def is_valid_name(value: str) -> bool:
    return bool(_NAME.match(value)) and ".." not in value


class ModelStore(Protocol):
    def current_version(self, tenant: str, model_id: str) -> str:
        """The version new work on this model uses; ModelNotFound when the tenant has no such model."""
        ...

    def load(self, tenant: str, model_id: str, version: str | None = None) -> ModelArtifact:
        """The artifact of that version (the current one by default); ModelNotFound when absent."""
        ...
