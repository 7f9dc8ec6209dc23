"""The options a new task keeps, whichever way it was created."""

from __future__ import annotations

from reviewpulse.analysis.engines.base import EngineParts
from reviewpulse.analysis.engines.registry import engine_named
from reviewpulse.analysis.options import AnalysisOptions
from reviewpulse.errors import (
    BatchModeUnavailable,
    ColumnNotFound,
    EngineUnavailable,
    NotFound,
    RedactionRequired,
    TaskNotReady,
)
from reviewpulse.settings import Settings
from reviewpulse.tasks.model import TaskStatus, is_valid_task_id
from reviewpulse.tasks.repository import TaskRepository


def resolve_options(
    engine: str | None,
    aspects: list[str],
    report: bool,
    settings: Settings,
    *,
    min_confidence: float | None = None,
    group_by: list[str] | None = None,
    time_field: str | None = None,
    time_bucket: str | None = None,
    label_field: str | None = None,
    categories: dict[str, list[str]] | None = None,
    columns: list[str] | None = None,
    compare_to: str | None = None,
    redact_pii: bool = True,
    quote_only: bool = False,
    max_cost_usd: float | None = None,
    on_budget_exhausted: str = "lexicon",
    delimiter: str | None = None,
    sheet: str | None = None,
    csv_bom: bool = False,
    csv_escape_formulas: bool = True,
    mode: str | None = None,
    model_id: str | None = None,
) -> AnalysisOptions:
    """The options a task keeps: the deployment's default engine unless one is named, with that
    engine's defaults filled in (auto: the deployment's min_confidence). With the input's `columns`
    known at creation (a single text has none), group_by, time_field and label_field must name some of them;
    otherwise the finalizer checks them against the file's header. `redact_pii` False needs a
    deployment that allows unredacted texts to reach an LLM."""
    if not redact_pii and not settings.allow_unredacted_llm:
        raise RedactionRequired(
            "this deployment redacts personal data from every text sent to an LLM; options.redact_pii "
            "cannot be false here (the deployment parameter AllowUnredactedLlm allows it)"
        )
    chosen = engine_named(engine or settings.default_engine, EngineParts(settings))
    reason = chosen.unavailable_reason()
    if reason is not None:
        raise EngineUnavailable(reason)
    if columns is not None:
        for name in [*(group_by or []), *([time_field] if time_field else []), *([label_field] if label_field else [])]:
            if name not in columns:
                have = f"its columns are {', '.join(columns)}" if columns else "it has no columns"
                raise ColumnNotFound(f"{name!r} is not a column of the input: {have}")
    requested = AnalysisOptions(
        engine=chosen.name,
        aspects=aspects,
        report=report,
        min_confidence=min_confidence,
        group_by=group_by or [],
        time_field=time_field,
        time_bucket=time_bucket,
        label_field=label_field,
        categories=categories or {},
        compare_to=compare_to,
        redact_pii=redact_pii,
        quote_only=quote_only,
        max_cost_usd=max_cost_usd,
        on_budget_exhausted=on_budget_exhausted,
        delimiter=delimiter,
        sheet=sheet,
        csv_bom=csv_bom,
        csv_escape_formulas=csv_escape_formulas,
        mode=mode,
        model_id=model_id,
    )
    if mode == "batch" and not chosen.uses_llm_queue:
        # The lexicon (and auto without an LLM) sends nothing to a provider: refused, not ignored,
        # so that a client never believes it is paying the batch price for nothing.
        raise BatchModeUnavailable(
            f"options.mode batch needs an engine that calls the LLM; {chosen.name} does not here"
        )
    return chosen.settle_options(requested)


def engine_notes(options: AnalysisOptions, settings: Settings) -> list[str]:
    """What a new task on these options tells its client about how it is run."""
    note = engine_named(options.engine, EngineParts(settings)).note()
    return [note] if note else []


def check_baseline(tenant: str, compare_to: str | None, tasks: TaskRepository) -> None:
    """options.compare_to must name a ready task of the same tenant; another tenant's task is
    looked up under the caller's tenant, so it answers exactly like a missing one."""
    if compare_to is None:
        return
    baseline = tasks.get(tenant, compare_to) if is_valid_task_id(compare_to) else None
    if baseline is None:
        raise NotFound("options.compare_to names no task of yours")
    if baseline.status is not TaskStatus.READY:
        raise TaskNotReady(f"options.compare_to names a task that is {baseline.status.value}; compare with a ready one")
