"""The LLM engine as the workers hold it: built when the first chunk that needs it arrives.

Its own module, apart from engines/llm.py, so that a function holding one (the analyzers, the
finalizer) loads neither the engines, the prompt nor openai at its cold start (docs/figures.md,
"Cold start"; tests/unit/test_cold_start_imports.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from reviewpulse.settings import Settings, get_settings

if TYPE_CHECKING:
    from reviewpulse.analysis.llm.request_engine import LlmEngine


class LazyLlmEngine:
    """The LLM client engine, built when the first chunk that needs it arrives; it then lives (with
    its HTTP client, pacing and circuit breaker) as long as the execution environment."""

    def __init__(self, settings: Callable[[], Settings] = get_settings) -> None:
        self._settings = settings
        self._engine: LlmEngine | None = None

    def __call__(self) -> LlmEngine:
        if self._engine is None:
            # Imported at the first LLM chunk: the client, the prompt and openai (about 0.6 s).
            from reviewpulse.analysis.llm.client import build_engine

            self._engine = build_engine(self._settings())
        return self._engine
