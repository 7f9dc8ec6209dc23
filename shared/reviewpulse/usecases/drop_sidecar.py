"""A drop's options sidecar (`<file>.options.json`, written before its file): read and validated as
the API validates a batch request's options (usecases/split.py reads it when the file arrives)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from reviewpulse.analysis.options import AnalysisOptions, DropOptionsRequest
from reviewpulse.errors import ReviewPulseError
from reviewpulse.ingest.formats import FileFormat
from reviewpulse.observability import safe_validation_errors
from reviewpulse.settings import Settings
from reviewpulse.storage.inputs import InputFiles, TooBig
from reviewpulse.storage.layout import SourceObject, options_sidecar_key
from reviewpulse.tasks.repository import TaskRepository
from reviewpulse.tenant_models.repository import ModelRepository
from reviewpulse.usecases.models import check_task_model, with_default_model
from reviewpulse.usecases.resolve_options import check_baseline, check_teach, resolve_options

# A drop's options sidecar is a small JSON object; anything larger is refused unread.
MAX_SIDECAR_BYTES = 64 * 1024

# What a batch request says about its file beside its options; a sidecar says it among them.
FILE_FIELDS = ("format", "text_field", "id_field")


class BadSidecar(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class ReadSidecar:
    """Command: read the sidecar of dropped file `source` (`<file>.options.json` beside it)."""

    source: SourceObject


@dataclass(frozen=True)
class SidecarReading:
    """What checking a sidecar needs (the splitter passes its own): the bucket's input files, the
    settings, the tasks (options.compare_to's baseline) and the tenants' models where deployed."""

    input_files: InputFiles
    settings: Settings
    tasks: TaskRepository
    models: ModelRepository | None = None


def sidecar_options(command: ReadSidecar, deps: SidecarReading) -> tuple[AnalysisOptions | None, dict[str, Any]]:
    """The options in the drop's sidecar, validated as the API validates a request's options, and
    what it says about the file as a batch request would (format, text_field, id_field); None and
    nothing without a sidecar. A sidecar must be written before its file (it is read when the file
    arrives)."""
    source, input_files, settings, tasks, models = (
        command.source,
        deps.input_files,
        deps.settings,
        deps.tasks,
        deps.models,
    )
    name = options_sidecar_key(source).rsplit("/", 1)[-1]
    try:
        raw = input_files.read_small(options_sidecar_key(source), MAX_SIDECAR_BYTES)
    except TooBig:
        raise BadSidecar(f"{name} is larger than {MAX_SIDECAR_BYTES} bytes") from None
    if raw is None:
        return None, {}
    try:
        parsed: Any = json.loads(raw)
    except ValueError:
        raise BadSidecar(f"{name} is not JSON") from None
    try:
        requested = DropOptionsRequest.model_validate(parsed)
    except ValidationError as exc:
        # Where and which rule only: pydantic's own text quotes the input.
        problems = "; ".join(
            f"{'.'.join(str(part) for part in e['loc']) or '(the object)'}: {e['msg']}"
            for e in safe_validation_errors(exc.errors())
        )
        raise BadSidecar(f"{name} is not valid: {problems}") from None
    file_fields = {name: getattr(requested, name) for name in FILE_FIELDS}
    if file_fields["format"] is not None and file_fields["format"] not in {f.value for f in FileFormat}:
        raise BadSidecar(f"{name} is not valid: format: not one of {', '.join(f.value for f in FileFormat)}")
    try:
        check_baseline(source.tenant, requested, tasks)
        options = requested.requested()
        if models is not None:
            check_task_model(source.tenant, options.model_id, models=models)
            options = with_default_model(source.tenant, options, settings.default_engine, models=models)
        resolved = resolve_options(options, settings)
        check_teach(resolved, settings, batch=True)
        return resolved, file_fields
    except ReviewPulseError as exc:
        raise BadSidecar(f"{name}: {exc.detail} ({exc.code})") from None
