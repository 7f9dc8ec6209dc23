"""The options a new task keeps, whichever way it was created."""

from __future__ import annotations

from reviewpulse.analysis.options import AnalysisOptions
from reviewpulse.errors import ColumnNotFound, EngineUnavailable
from reviewpulse.settings import Settings


def resolve_options(
    engine: str | None,
    aspects: list[str],
    report: bool,
    settings: Settings,
    *,
    group_by: list[str] | None = None,
    time_field: str | None = None,
    time_bucket: str | None = None,
    columns: list[str] | None = None,
) -> AnalysisOptions:
    """The options a task keeps: the deployment's default engine unless one is named. With the
    input's `columns` known at creation (a single text has none), group_by and time_field must
    name some of them; otherwise the finalizer checks them against the file's header."""
    chosen = engine or settings.default_engine
    if chosen == "llm" and not settings.llm_configured:
        raise EngineUnavailable("the llm engine is not configured in this deployment; use lexicon")
    if columns is not None:
        for name in [*(group_by or []), *([time_field] if time_field else [])]:
            if name not in columns:
                have = f"its columns are {', '.join(columns)}" if columns else "it has no columns"
                raise ColumnNotFound(f"{name!r} is not a column of the input: {have}")
    return AnalysisOptions(
        engine=chosen,
        aspects=aspects,
        report=report,
        group_by=group_by or [],
        time_field=time_field,
        time_bucket=time_bucket,
    )
