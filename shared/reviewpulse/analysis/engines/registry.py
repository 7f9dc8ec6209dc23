"""The one place that maps an engine's name to its engine. Code elsewhere asks for the engine a
task's options name and calls it; it never compares engine names."""

from __future__ import annotations

from reviewpulse.analysis.engines.auto import AutoEngine
from reviewpulse.analysis.engines.base import Engine, EngineParts
from reviewpulse.analysis.engines.lexicon import LexiconEngine
from reviewpulse.analysis.engines.llm import LlmTaskEngine
from reviewpulse.analysis.engines.model import ModelEngine
from reviewpulse.analysis.options import AnalysisOptions
from reviewpulse.engine_names import ENGINE_NAMES

ENGINES: dict[str, type] = {engine.name: engine for engine in (LexiconEngine, LlmTaskEngine, AutoEngine)}
# What a drop gets when the deployment's default engine cannot run here (the llm without a key).
ALWAYS_AVAILABLE = LexiconEngine.name

assert set(ENGINES) == set(ENGINE_NAMES), "every engine name has an engine, and every engine a name"


def engine_named(name: str, parts: EngineParts) -> Engine:
    """The engine of that name (a name outside ENGINE_NAMES is a KeyError: options are validated)."""
    return ENGINES[name](parts)


def engine_for(options: AnalysisOptions, parts: EngineParts) -> Engine:
    """The engine a task's options name, built once per task (or chunk) from these parts. The
    lexicon engine of a task that names a model is that model's (auto routes through it itself)."""
    if options.model_id is not None and options.engine == LexiconEngine.name:
        return ModelEngine(parts)
    return engine_named(options.engine, parts)


def drop_engine(parts: EngineParts) -> Engine:
    """A dropped file names no options: the deployment's default engine where it can run."""
    engine = engine_named(parts.settings.default_engine, parts)
    return engine if engine.unavailable_reason() is None else engine_named(ALWAYS_AVAILABLE, parts)


def sends_only_unsure(options: AnalysisOptions) -> bool:
    """Whether the task's engine sends only the items it is unsure of to the LLM (auto), so that a
    teaching sample (options.teach) must be sent to it on purpose."""
    return options.engine == "auto"


def teacher_for(options: AnalysisOptions, parts: EngineParts) -> Engine | None:
    """The LLM engine (with the task's budgets and redaction, through `parts`) that answers the
    teaching sample of a task with options.teach on auto; None where none is needed (no teaching,
    or llm, which answers every item anyway)."""
    if options.teach is None or not sends_only_unsure(options):
        return None
    return engine_for(options.model_copy(update={"engine": "llm", "model_id": None}), parts)
