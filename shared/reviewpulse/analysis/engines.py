"""The LLM engine, built when the first task that asks for it arrives.

Workers that only ever see lexicon tasks never import the openai package (about 0.6 s of cold
start); the engine, its HTTP client, pacing and circuit breaker then live as long as the
execution environment.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from reviewpulse.settings import Settings, get_settings

if TYPE_CHECKING:
    from reviewpulse.analysis.llm.engine import LlmEngine


class LazyLlmEngine:
    def __init__(self, settings: Callable[[], Settings] = get_settings) -> None:
        self._settings = settings
        self._engine: LlmEngine | None = None

    def __call__(self) -> LlmEngine:
        if self._engine is None:
            from reviewpulse.analysis.llm.client import build_engine

            self._engine = build_engine(self._settings())
        return self._engine
