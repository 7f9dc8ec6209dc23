"""A trained model as one compact, versioned file: weights, hashing parameters and a model card.

The file is a zip archive (stdlib zipfile, deflated) of two members:

- `model.json`: the format and its version, the model's id and version, its classes, intercepts
  and temperature, the hashing parameters (features.HashingSpec) and the model card: rows per
  class, cross-validated accuracy, macro-F1, ECE and reliability, the routing table `auto` reads,
  the date and the library versions. Counts only: no text, no example.
- `weights.f32`: the weights, little-endian float32, one row of `dimensions` values per class.
  Buckets no training text reached stay exactly zero, so a model trained on few rows compresses
  well; a full one is about 6 MB for three classes at the default 2 × 2^18 buckets.

Reading it needs only the standard library (array, json, zipfile), so the analyzer's layer needs
neither numpy nor scikit-learn.
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
import zipfile
from array import array
from dataclasses import dataclass, field, replace

from reviewpulse.analysis.models.features import HashingSpec

FORMAT = "reviewpulse-model"
FORMAT_VERSION = 1
HEADER = "model.json"
WEIGHTS = "weights.f32"
# The largest artifact anything writes or reads (issue 20: a model file ≤ 10 MB).
MAX_BYTES = 10 * 1024 * 1024


class ArtifactInvalid(ValueError):
    """The bytes are not a model artifact this code can read."""


@dataclass(frozen=True)
class ModelArtifact:
    classes: tuple[str, ...]
    intercept: tuple[float, ...]
    weights: tuple[array, ...]  # one array('f') of spec.dimensions values per class
    spec: HashingSpec
    temperature: float = 1.0  # logits are divided by it before the softmax (fitted on CV predictions)
    card: dict = field(default_factory=dict)
    model_id: str = ""
    version: str = ""

    def __post_init__(self) -> None:
        if len(self.classes) < 2 or len(set(self.classes)) != len(self.classes):
            raise ArtifactInvalid("a model has two or more distinct classes")
        if len(self.intercept) != len(self.classes) or len(self.weights) != len(self.classes):
            raise ArtifactInvalid("one intercept and one weight row per class")
        if any(len(row) != self.spec.dimensions for row in self.weights):
            raise ArtifactInvalid("each weight row has the hashing spec's dimensions")
        if not self.temperature > 0:
            raise ArtifactInvalid("the temperature is positive")

    @property
    def name(self) -> str:
        """What a result's `model` field says: model_id@version."""
        return f"{self.model_id}@{self.version}"

    def with_identity(self, model_id: str, version: str | None = None) -> ModelArtifact:
        """This model under an id (and a version; by default its content digest)."""
        return replace(self, model_id=model_id, version=version or self.digest())

    def digest(self) -> str:
        """A short digest of what the model computes (weights, classes, hashing, temperature)."""
        h = hashlib.sha256()
        h.update(json.dumps([self.classes, self.intercept, self.spec.to_json(), self.temperature]).encode())
        for row in self.weights:
            h.update(row.tobytes())
        return h.hexdigest()[:16]

    def to_bytes(self) -> bytes:
        header = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "model_id": self.model_id,
            "version": self.version,
            "classes": list(self.classes),
            "intercept": list(self.intercept),
            "temperature": self.temperature,
            "hashing": self.spec.to_json(),
            "card": self.card,
        }
        weights = array("f")
        for row in self.weights:
            weights.extend(row)
        if sys.byteorder != "little":
            weights.byteswap()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
            archive.writestr(HEADER, json.dumps(header, sort_keys=True))
            archive.writestr(WEIGHTS, weights.tobytes())
        data = buffer.getvalue()
        if len(data) > MAX_BYTES:
            raise ArtifactInvalid(f"the artifact is {len(data):,} bytes, over {MAX_BYTES:,}")
        return data

    @classmethod
    def from_bytes(cls, data: bytes) -> ModelArtifact:
        if len(data) > MAX_BYTES:
            raise ArtifactInvalid(f"the artifact is {len(data):,} bytes, over {MAX_BYTES:,}")
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                header = json.loads(archive.read(HEADER))
                raw = archive.read(WEIGHTS)
        except (zipfile.BadZipFile, KeyError, ValueError) as exc:
            raise ArtifactInvalid(f"not a model artifact: {type(exc).__name__}") from None
        if header.get("format") != FORMAT or header.get("format_version") != FORMAT_VERSION:
            raise ArtifactInvalid(f"not a {FORMAT} file of version {FORMAT_VERSION}")
        try:
            spec = HashingSpec.from_json(header["hashing"])
            classes = tuple(str(c) for c in header["classes"])
            weights = array("f")
            weights.frombytes(raw)
            if sys.byteorder != "little":
                weights.byteswap()
            size = spec.dimensions
            if len(weights) != size * len(classes):
                raise ArtifactInvalid("the weights do not match the classes and hashing spec")
            return cls(
                classes=classes,
                intercept=tuple(float(v) for v in header["intercept"]),
                weights=tuple(weights[k * size : (k + 1) * size] for k in range(len(classes))),
                spec=spec,
                temperature=float(header.get("temperature", 1.0)),
                card=dict(header.get("card") or {}),
                model_id=str(header.get("model_id") or ""),
                version=str(header.get("version") or ""),
            )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, ArtifactInvalid):
                raise
            raise ArtifactInvalid(f"not a model artifact: {type(exc).__name__}") from None
