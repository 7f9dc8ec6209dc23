"""The options a new task keeps, whichever way it was created."""

from __future__ import annotations

from reviewpulse.analysis.engines.base import EngineParts
from reviewpulse.analysis.engines.registry import engine_named
from reviewpulse.analysis.options import AnalysisOptions, OptionsRequest
from reviewpulse.errors import (
    BatchModeUnavailable,
    ColumnNotFound,
    CompareUnavailable,
    EngineUnavailable,
    NotFound,
    RedactionRequired,
    TaskNotReady,
    TeachUnavailable,
)
from reviewpulse.settings import Settings
from reviewpulse.tasks.model import TaskStatus, is_valid_task_id
from reviewpulse.tasks.repository import TaskRepository


def resolve_options(
    requested: OptionsRequest, settings: Settings, *, columns: list[str] | None = None
) -> AnalysisOptions:
    """The options a task keeps from what its client asked (the API's `options`, a drop's sidecar):
    the deployment's default engine unless one is named, with that engine's defaults filled in
    (auto: the deployment's min_confidence). With the input's `columns` known at creation (a single
    text has none), group_by, time_field and label_field must name some of them; otherwise the
    finalizer checks them against the file's header. `redact_pii` False needs a deployment that
    allows unredacted texts to reach an LLM."""
    if not requested.redact_pii and not settings.allow_unredacted_llm:
        raise RedactionRequired(
            "this deployment redacts personal data from every text sent to an LLM; options.redact_pii "
            "cannot be false here (the deployment parameter AllowUnredactedLlm allows it)"
        )
    chosen = engine_named(requested.engine or settings.default_engine, EngineParts(settings))
    reason = chosen.unavailable_reason()
    if reason is not None:
        raise EngineUnavailable(reason)
    if columns is not None:
        named = [*requested.group_by, *(f for f in (requested.time_field, requested.label_field) if f)]
        for name in named:
            if name not in columns:
                have = f"its columns are {', '.join(columns)}" if columns else "it has no columns"
                raise ColumnNotFound(f"{name!r} is not a column of the input: {have}")
    if requested.mode == "batch" and not chosen.uses_llm_queue:
        # The lexicon (and auto without an LLM) sends nothing to a provider: refused, not ignored,
        # so that a client never believes it is paying the batch price for nothing.
        raise BatchModeUnavailable(
            f"options.mode batch needs an engine that calls the LLM; {chosen.name} does not here"
        )
    return chosen.settle_options(AnalysisOptions.of(requested, engine=chosen.name))


# The engines a model can be taught on (options.teach): the ones that ask the LLM.
TEACHING_ENGINES = ("auto", "llm")


def check_teach(options: AnalysisOptions, settings: Settings, *, batch: bool) -> None:
    """options.teach needs a batch (an upload or a drop) on auto or llm with an LLM to ask, in sync
    mode (the Batch API's answers are collected apart from the chunks that pick the sample): else
    400 teach-unavailable."""
    if options.teach is None:
        return
    if not batch:
        raise TeachUnavailable("options.teach needs a batch: a model is taught from a sample of a file's items")
    engine = engine_named(options.engine, EngineParts(settings))
    if options.engine not in TEACHING_ENGINES or not engine.uses_llm_queue:
        raise TeachUnavailable(
            f"options.teach needs the auto or llm engine with an LLM; {options.engine} has none here"
        )
    if options.mode == "batch":
        raise TeachUnavailable("options.teach needs sync mode: the teaching sample is answered as the chunks arrive")


def engine_notes(options: AnalysisOptions, settings: Settings) -> list[str]:
    """What a new task on these options tells its client about how it is run."""
    note = engine_named(options.engine, EngineParts(settings)).note()
    return [note] if note else []


def check_compare(requested: OptionsRequest) -> None:
    """options.compare splits the file by its time_field, so it needs one; and one task holds one
    comparison, so not with compare_to too: else 400 compare-unavailable."""
    if requested.compare is None:
        return
    if not requested.time_field:
        raise CompareUnavailable("options.compare splits the file by its dates: name the date column in time_field")
    if requested.compare_to:
        raise CompareUnavailable(
            "options.compare and options.compare_to each ask for the one comparison a task holds: give one of them"
        )


def check_baseline(tenant: str, requested: OptionsRequest, tasks: TaskRepository) -> None:
    """options.compare_to must name a ready task of the same tenant; another tenant's task is
    looked up under the caller's tenant, so it answers exactly like a missing one. options.compare
    is checked here too (check_compare): what a task is compared with."""
    check_compare(requested)
    compare_to = requested.compare_to
    if compare_to is None:
        return
    baseline = tasks.get(tenant, compare_to) if is_valid_task_id(compare_to) else None
    if baseline is None:
        raise NotFound("options.compare_to names no task of yours")
    if baseline.status is not TaskStatus.READY:
        raise TaskNotReady(f"options.compare_to names a task that is {baseline.status.value}; compare with a ready one")
