"""What an answer's engine says about it, for code outside the engines that must not compare
engine names: which labels that engine can give, and whether the lexicon stood in for the LLM."""

from __future__ import annotations

from reviewpulse.analysis.engines.wrappers import BUDGET_ENGINE, FALLBACK_ENGINE
from reviewpulse.analysis.lexicon_analyzer import LexiconAnalyzer
from reviewpulse.analysis.sentiment import Analysis, Label

# The lexicon never answers `mixed` (analysis/lexicon_analyzer.py), also when it stands in for the LLM
# (its fallback) or answers what a budget had no room for.
_NO_MIXED = frozenset({LexiconAnalyzer.engine, FALLBACK_ENGINE, BUDGET_ENGINE})


def labels_given_by(engine: str) -> tuple[Label, ...]:
    """The labels answers of this engine can carry."""
    return tuple(label for label in Label if label is not Label.MIXED) if engine in _NO_MIXED else tuple(Label)


def stood_in_for_the_llm(analysis: Analysis) -> bool:
    """The lexicon answered because the LLM left the item unanswered (the fallback policy)."""
    return analysis.engine == FALLBACK_ENGINE
