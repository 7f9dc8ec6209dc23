"""Every key of the data bucket, as pure functions (no boto3):

uploads/<tenant>/<task_id>/<filename>   files uploaded through the presigned POST
incoming/<tenant>/<path>                files dropped by other systems
results/<tenant>/<task_id>/parts/…      one JSONL part per chunk attempt
results/<tenant>/<task_id>/results.*    merged results, JSONL and CSV
results/<tenant>/<task_id>/conversations.jsonl   per-conversation summaries, for chat conversations
results/<tenant>/<task_id>/insights.json         segments, time, aspects (and themes, comparison)
results/<tenant>/<task_id>/report.html           the self-contained HTML report
results/<tenant>/<task_id>/batch-api/chunk-<n>.json   Batch API mode: a chunk waiting for its answers
outgoing/<tenant>/<path>.results.*      copies for dropped files, beside their input's path
outgoing/<tenant>/<path>.insights.json, .report.html   a drop's insights and report, likewise
outgoing/<tenant>/<path>.done.json      a drop's receipt once it is ready, written after the files above
outgoing/<tenant>/<path>.error.json     a drop's receipt when it failed, was cancelled or was refused
outgoing/_refused/<sha256>.error.json   the receipt of a drop outside a valid tenant folder
incoming/<tenant>/<path>.options.json   a drop's options (its sidecar), read when <path> arrives

No key written here holds an empty, `.` or `..` segment taken from input: S3 keeps such keys
literally, but a consumer that mirrors outgoing/ to disk (`aws s3 sync`) resolves them, and
`outgoing/acme/../other/x` would land in another folder. Keys built from a dropped path refuse
one (UnsafeKey); the splitter refuses such drops and their receipts go to outgoing/_refused/.

models/<tenant>/<model_id>/<version>.zip   a tenant model's artifact, one per version
models/<tenant>/<model_id>/current.json    which version of the model new work uses
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

UPLOADS = "uploads"
INCOMING = "incoming"
RESULTS = "results"
OUTGOING = "outgoing"
# Receipts of drops outside a valid tenant folder: one folder that is no tenant's (a tenant name
# starts with a letter or a digit), one receipt per dropped key, named by the key's SHA-256.
REFUSED_PREFIX = f"{OUTGOING}/_refused/"
_DOT_SEGMENTS = frozenset({"", ".", ".."})


class UnsafeKey(ValueError):
    """A key would hold an empty, `.` or `..` segment taken from input."""


def is_clean_path(path: str) -> bool:
    """True when no segment of `path` is empty, `.` or `..` (what a file system would resolve)."""
    return not any(segment in _DOT_SEGMENTS for segment in path.split("/"))


MODELS = "models"  # models/<tenant>/…: a tenant's trained models (the models feature's files)
# Every top-level area that holds one folder per tenant: erasing a tenant empties each of them.
TENANT_AREAS = (UPLOADS, INCOMING, RESULTS, OUTGOING, MODELS)


def tenant_prefix(area: str, tenant: str) -> str:
    """All of one tenant's objects in an area (ends in "/": "acme" never covers "acme-2")."""
    return f"{area}/{tenant}/"


@dataclass(frozen=True)
class SourceObject:
    """Where an input file came from, parsed from an S3 key."""

    kind: str  # UPLOADS or INCOMING
    tenant: str
    key: str
    task_id: str | None  # known for uploads; derived for drops
    filename: str
    relative_path: str  # for drops: the path under incoming/<tenant>/

    @property
    def clean(self) -> bool:
        """Its tenant and path hold no empty, `.` or `..` segment: keys may be built beside it."""
        return is_clean_path(self.tenant) and is_clean_path(self.relative_path)


def parse_source_key(key: str) -> SourceObject | None:
    """The upload or drop a key names; None for other keys and for folder markers (a trailing /).
    A drop's tenant and path are parsed whatever they hold (even `..`): the splitter refuses
    those that are not clean, with a receipt."""
    parts = key.split("/")
    if len(parts) == 4 and parts[0] == UPLOADS and all(parts[1:]):
        return SourceObject(UPLOADS, parts[1], key, parts[2], parts[3], parts[3])
    if len(parts) >= 3 and parts[0] == INCOMING and parts[-1]:
        return SourceObject(INCOMING, parts[1], key, None, parts[-1], "/".join(parts[2:]))
    return None


def _beside(source: SourceObject) -> str:
    """outgoing/<tenant>/<path>: where a drop's files go, only for a clean drop."""
    if not source.clean:
        raise UnsafeKey("a dropped key with an empty, . or .. segment has no place under outgoing/")
    return f"{OUTGOING}/{source.tenant}/{source.relative_path}"


def upload_key(tenant: str, task_id: str, filename: str) -> str:
    return f"{upload_prefix(tenant, task_id)}{filename}"


def upload_prefix(tenant: str, task_id: str) -> str:
    """Where a task's upload lives (ends in "/", so one task's prefix never covers another's)."""
    return f"{UPLOADS}/{tenant}/{task_id}/"


def results_prefix(tenant: str, task_id: str) -> str:
    """Where a task's results live (ends in "/", like upload_prefix)."""
    return f"{RESULTS}/{tenant}/{task_id}/"


def task_prefixes(tenant: str, task_id: str) -> tuple[str, str]:
    """Where a task's own data lives: its upload and its results."""
    return upload_prefix(tenant, task_id), results_prefix(tenant, task_id)


def part_key(tenant: str, task_id: str, chunk: int, attempt: str) -> str:
    """Each attempt at a chunk writes its own part; the task records which attempt counted."""
    return f"{results_prefix(tenant, task_id)}parts/part-{chunk:06d}-{attempt}.jsonl"


def paused_prefix(tenant: str, task_id: str) -> str:
    """Where a paused task's chunks wait for its resume (under its results: purged and expired
    with them)."""
    return f"{results_prefix(tenant, task_id)}paused/"


def paused_chunk_key(tenant: str, task_id: str, chunk: int) -> str:
    return f"{paused_prefix(tenant, task_id)}chunk-{chunk:06d}.json"


def waiting_chunk_key(tenant: str, task_id: str, chunk: int) -> str:
    """A chunk of a Batch API task, kept until its answers are in (purged with the results)."""
    return f"{results_prefix(tenant, task_id)}batch-api/chunk-{chunk:06d}.json"


def results_keys(tenant: str, task_id: str) -> tuple[str, str]:
    prefix = f"{results_prefix(tenant, task_id)}results"
    return f"{prefix}.jsonl", f"{prefix}.csv"


def conversations_key(tenant: str, task_id: str) -> str:
    return f"{results_prefix(tenant, task_id)}conversations.jsonl"


def insights_key(tenant: str, task_id: str) -> str:
    return f"{results_prefix(tenant, task_id)}insights.json"


def report_key(tenant: str, task_id: str) -> str:
    return f"{results_prefix(tenant, task_id)}report.html"


def outgoing_insights_key(source: SourceObject) -> str:
    return f"{_beside(source)}.insights.json"


def outgoing_report_key(source: SourceObject) -> str:
    return f"{_beside(source)}.report.html"


def outgoing_keys(source: SourceObject) -> tuple[str, str, str]:
    """Where a drop's results are delivered: JSONL, CSV and, for chat conversations, their summaries."""
    prefix = _beside(source)
    return f"{prefix}.results.jsonl", f"{prefix}.results.csv", f"{prefix}.conversations.jsonl"


# A drop's options travel beside it: incoming/<tenant>/<path>.options.json for incoming/<tenant>/<path>.
OPTIONS_SIDECAR_SUFFIX = ".options.json"
# S3's longest key, in UTF-8 bytes: a receipt whose key would be longer cannot be written.
MAX_KEY_BYTES = 1024


def is_options_sidecar(source: SourceObject) -> bool:
    """A dropped options file: the options of another drop, never a drop to analyse itself."""
    return source.kind == INCOMING and source.filename.endswith(OPTIONS_SIDECAR_SUFFIX)


def options_sidecar_key(source: SourceObject) -> str:
    return f"{source.key}{OPTIONS_SIDECAR_SUFFIX}"


def receipt_keys(source: SourceObject) -> tuple[str, str]:
    """Where a drop says how it ended: `.done.json` (ready) and `.error.json` (anything else)."""
    prefix = _beside(source)
    return f"{prefix}.done.json", f"{prefix}.error.json"


def refused_receipt_key(source: SourceObject, *, tenant_is_valid: bool) -> str:
    """Where a drop refused before any task is made says so: beside its path when that is a
    valid tenant's clean folder, else outgoing/_refused/<SHA-256 of its key, hex>.error.json."""
    if tenant_is_valid and source.clean:
        return receipt_keys(source)[1]
    return f"{REFUSED_PREFIX}{hashlib.sha256(source.key.encode()).hexdigest()}.error.json"


def fits_in_a_key(key: str) -> bool:
    return len(key.encode()) <= MAX_KEY_BYTES


def delivered_keys(source: SourceObject, *, conversations: bool) -> list[str]:
    """Every file a ready drop delivers to outgoing/ (the finalizer writes each of them)."""
    jsonl, csv, conversations_file = outgoing_keys(source)
    return [
        jsonl,
        csv,
        *([conversations_file] if conversations else []),
        outgoing_insights_key(source),
        outgoing_report_key(source),
    ]


def model_prefix(tenant: str, model_id: str) -> str:
    """Where a tenant's model lives, every version (ends in "/": one model's never covers another's)."""
    return f"{MODELS}/{tenant}/{model_id}/"


def model_key(tenant: str, model_id: str, version: str) -> str:
    return f"{model_prefix(tenant, model_id)}{version}.zip"


def model_pointer_key(tenant: str, model_id: str) -> str:
    """The small object naming the version new work on the model uses."""
    return f"{model_prefix(tenant, model_id)}current.json"
