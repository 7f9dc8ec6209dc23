"""Which items an `auto` engine sends to the LLM: a pure rule over the lexicon's result."""

from __future__ import annotations

from reviewpulse.analysis.sentiment import Sentiment


def needs_llm(sentiment: Sentiment, threshold: float) -> bool:
    """True when the lexicon's calibrated confidence is below `threshold`, or when it flags the
    text (a language it does not read): the LLM should answer for it."""
    return sentiment.flag is not None or sentiment.confidence < threshold
