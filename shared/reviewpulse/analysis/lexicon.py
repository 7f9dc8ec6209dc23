"""The offline lexicon engine (VADER): the default, free, and needs no key."""

from __future__ import annotations

import re
from collections.abc import Sequence

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from reviewpulse.analysis.base import Label, Sentiment

# VADER's usual cut-offs on the compound score.
POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05
# A text is mixed when one of its clauses is clearly positive and another clearly negative.
# VADER scores a whole text with "but" shifting weight to the second half, so its overall pos/neg
# shares hide the first half's feeling; clauses are scored on their own for this decision.
CLAUSE_THRESHOLD = 0.25
# ...unless the text as a whole is this one-sided.
MIXED_MAX_COMPOUND = 0.8
_CLAUSE_BREAK = re.compile(r"[.!?;:,\n]+|\b(?:but|however|although|though|yet|except)\b", re.IGNORECASE)
# VADER's cost grows with the square of a text's length in sentiment-bearing tokens (and each
# emoji expands into several words), so a long or emoji-flooded text takes seconds. Scoring
# windows of a bounded number of tokens keeps the cost linear; windows are combined by weight.
WINDOW_TOKENS = 40
# A word, or any single other visible character (each emoji or symbol is a token of its own).
_TOKEN = re.compile(r"\w+|[^\w\s]")


class LexiconAnalyzer:
    engine = "lexicon"

    def __init__(self) -> None:
        self._vader = SentimentIntensityAnalyzer()

    def analyze(self, texts: Sequence[str]) -> list[Sentiment]:
        return [self.analyze_one(text) for text in texts]

    def analyze_one(self, text: str) -> Sentiment:
        windows = _windows(text)
        if len(windows) == 1:
            scores = self._vader.polarity_scores(windows[0])
        else:
            scores = self._combine([(len(w), self._vader.polarity_scores(w)) for w in windows])
        balance = self._mixed_balance(text, scores)
        if balance is not None:
            return Sentiment(label=Label.MIXED, score=round(scores["compound"], 4), confidence=round(balance, 4))
        return _to_sentiment(scores)

    def _mixed_balance(self, text: str, scores: dict[str, float]) -> float | None:
        """How evenly strong praise and strong complaint are balanced, or None if not mixed."""
        # Cheap test first: most reviews never have both polarities.
        if scores["pos"] == 0 or scores["neg"] == 0 or abs(scores["compound"]) >= MIXED_MAX_COMPOUND:
            return None
        clauses = [c for c in _CLAUSE_BREAK.split(text) if c and c.strip()]
        if len(clauses) < 2:
            return None
        compounds = [self._vader.polarity_scores(window)["compound"] for c in clauses for window in _windows(c)]
        best, worst = max(compounds), min(compounds)
        if best < CLAUSE_THRESHOLD or worst > -CLAUSE_THRESHOLD:
            return None
        return min(best, -worst) / max(best, -worst)

    @staticmethod
    def _combine(weighted: list[tuple[int, dict[str, float]]]) -> dict[str, float]:
        total = sum(weight for weight, _ in weighted) or 1
        return {
            key: sum(weight * scores[key] for weight, scores in weighted) / total
            for key in ("neg", "neu", "pos", "compound")
        }


def _windows(text: str) -> list[str]:
    """Slices of the original text (spacing and punctuation kept) of at most WINDOW_TOKENS tokens."""
    spans = [match.span() for match in _TOKEN.finditer(text)]
    if len(spans) <= WINDOW_TOKENS:
        return [text]
    starts = [spans[i][0] for i in range(0, len(spans), WINDOW_TOKENS)]
    return [text[start:end] for start, end in zip(starts, [*starts[1:], len(text)], strict=True)]


def _to_sentiment(scores: dict[str, float]) -> Sentiment:
    compound = max(-1.0, min(1.0, scores["compound"]))
    if compound >= POSITIVE_THRESHOLD:
        label, confidence = Label.POSITIVE, 0.5 + abs(compound) / 2
    elif compound <= NEGATIVE_THRESHOLD:
        label, confidence = Label.NEGATIVE, 0.5 + abs(compound) / 2
    else:
        # Near-zero compound: confident only when the text is mostly neutral words.
        label, confidence = Label.NEUTRAL, scores["neu"]
    return Sentiment(label=label, score=round(compound, 4), confidence=round(min(1.0, confidence), 4))
