"""The options a new task keeps, whichever way it was created."""

from __future__ import annotations

from reviewpulse.analysis.options import AnalysisOptions
from reviewpulse.errors import EngineUnavailable
from reviewpulse.settings import Settings


def resolve_options(engine: str | None, aspects: list[str], report: bool, settings: Settings) -> AnalysisOptions:
    """The options a task keeps: the deployment's default engine unless one is named."""
    chosen = engine or settings.default_engine
    if chosen == "llm" and not settings.llm_configured:
        raise EngineUnavailable("the llm engine is not configured in this deployment; use lexicon")
    return AnalysisOptions(engine=chosen, aspects=aspects, report=report)
