"""The offline lexicon engine (VADER): the default, free, and needs no key."""

from __future__ import annotations

import re
from typing import Sequence

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from reviewpulse.analysis.base import Label, Sentiment

# VADER's usual cut-offs on the compound score.
POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05
# Both polarities at least this strong (as shares of the text), and the weaker at least half the
# stronger, make a text mixed.
MIXED_SHARE = 0.2
MIXED_BALANCE = 0.5
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
        return _to_sentiment(scores)

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
    return [text[start:end] for start, end in zip(starts, starts[1:] + [len(text)])]


def _to_sentiment(scores: dict[str, float]) -> Sentiment:
    compound = max(-1.0, min(1.0, scores["compound"]))
    pos, neg = scores["pos"], scores["neg"]
    balance = min(pos, neg) / max(pos, neg) if max(pos, neg) else 0.0
    if min(pos, neg) >= MIXED_SHARE and balance >= MIXED_BALANCE and abs(compound) < 0.5:
        # Strong praise and strong complaint in one text: confidence grows as they balance.
        label, confidence = Label.MIXED, balance
    elif compound >= POSITIVE_THRESHOLD:
        label, confidence = Label.POSITIVE, 0.5 + abs(compound) / 2
    elif compound <= NEGATIVE_THRESHOLD:
        label, confidence = Label.NEGATIVE, 0.5 + abs(compound) / 2
    else:
        # Near-zero compound: confident only when the text is mostly neutral words.
        label, confidence = Label.NEUTRAL, scores["neu"]
    return Sentiment(label=label, score=round(compound, 4), confidence=round(min(1.0, confidence), 4))
