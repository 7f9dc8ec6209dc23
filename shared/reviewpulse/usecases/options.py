"""The options a new task keeps, whichever way it was created."""

from __future__ import annotations

from reviewpulse.analysis.engines.base import EngineParts
from reviewpulse.analysis.engines.registry import engine_named
from reviewpulse.analysis.options import AnalysisOptions
from reviewpulse.errors import EngineUnavailable
from reviewpulse.settings import Settings


def resolve_options(
    engine: str | None,
    aspects: list[str],
    report: bool,
    settings: Settings,
    *,
    min_confidence: float | None = None,
) -> AnalysisOptions:
    """The options a task keeps: the deployment's default engine unless one is named, with that
    engine's defaults filled in (auto: the deployment's min_confidence)."""
    chosen = engine_named(engine or settings.default_engine, EngineParts(settings))
    reason = chosen.unavailable_reason()
    if reason is not None:
        raise EngineUnavailable(reason)
    requested = AnalysisOptions(engine=chosen.name, aspects=aspects, report=report, min_confidence=min_confidence)
    return chosen.settle_options(requested)


def engine_notes(options: AnalysisOptions, settings: Settings) -> list[str]:
    """What a new task on these options tells its client about how it is run."""
    note = engine_named(options.engine, EngineParts(settings)).note()
    return [note] if note else []
