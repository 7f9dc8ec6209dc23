"""The lexicon analyzer as the workers hold it: built when the first text is analysed.

Building one loads VADER's lexicon, the calibration and the language model (docs/figures.md,
"Cold start"); a function that holds one for the whole execution environment should not pay for
that on a cold start whose first message analyses nothing (a skipped chunk, an LLM chunk that
needs no fallback).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reviewpulse.analysis.lexicon_analyzer import LexiconAnalyzer
    from reviewpulse.analysis.sentiment import Sentiment


def _shipped() -> LexiconAnalyzer:
    # Imported at the first analysis: VADER, the calibration and the language detector.
    from reviewpulse.analysis.lexicon_analyzer import LexiconAnalyzer

    return LexiconAnalyzer()


class LazyLexiconAnalyzer:
    """A LexiconAnalyzer (or what `build` makes), made at the first use of any of its members."""

    engine = "lexicon"

    def __init__(self, build: Callable[[], LexiconAnalyzer] = _shipped) -> None:
        self._build = build

    @cached_property
    def built(self) -> LexiconAnalyzer:
        return self._build()

    def analyze(self, texts: Sequence[str]) -> list[Sentiment]:
        return self.built.analyze(texts)

    def __getattr__(self, name: str) -> Any:
        # Everything else an analyzer offers (scores, language, vader, analyze_one, …).
        return getattr(self.built, name)
