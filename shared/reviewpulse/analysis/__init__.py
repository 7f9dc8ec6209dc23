"""Sentiment analysis: the analyzer protocol and its engines."""

from reviewpulse.analysis.base import Analyzer, Label, Sentiment
from reviewpulse.analysis.lexicon import LexiconAnalyzer

__all__ = ["Analyzer", "Label", "LexiconAnalyzer", "Sentiment"]
