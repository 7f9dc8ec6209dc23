"""The offline lexicon engine (VADER): the default, free, and needs no key.

Its label comes from VADER's usual cut-offs on the compound score; its confidence is calibrated
(calibration.py): the probability that the label is right. It gives no `mixed`: on every labelled
set in ../shared/data a `mixed` rule cost accuracy against reading the score's sign (README,
Figures). It detects each text's language; for one it does not read (anything but English) the
label is VADER's guess, with a low confidence and a flag that says why.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from reviewpulse.analysis.calibration import Calibration, features
from reviewpulse.analysis.language import ENGLISH, UNDETERMINED, LanguageDetector
from reviewpulse.analysis.normalise import normalise_social
from reviewpulse.analysis.sentiment import LANGUAGE_NOT_READ, Label, Sentiment
from reviewpulse.analysis.vader_linear import LinearVader

# VADER's usual cut-offs on the compound score.
POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05
# VADER's lexicon is English. A short text too short to identify is read as English (emoji and
# "Terrible!" are what VADER is good at).
READS = frozenset({ENGLISH, UNDETERMINED})
# For a language it does not read the label is a guess among three: its confidence is chance.
NOT_READ_CONFIDENCE = round(1 / 3, 4)
# Each emoji expands into several words, so an emoji-flooded text is long for VADER. Scoring
# windows of a bounded number of tokens bounds that worst case; windows are combined by weight.
# (VADER's own cost is linear in length: vader_linear.py.)
WINDOW_TOKENS = 40
# A word, or any single other visible character (each emoji or symbol is a token of its own).
_TOKEN = re.compile(r"\w+|[^\w\s]")


class LexiconAnalyzer:
    engine = "lexicon"

    def __init__(
        self,
        calibration: Calibration | None = None,
        languages: LanguageDetector | None = None,
        vader: LinearVader | None = None,
    ) -> None:
        self._vader = vader or LinearVader()
        self._calibration = calibration or Calibration.shipped()
        # VADER's vocabulary tells English apart better than CLD3 does on a short text.
        self._languages = languages or LanguageDetector(english_words=frozenset(self._vader.lexicon))

    def analyze(self, texts: Sequence[str]) -> list[Sentiment]:
        return [self.analyze_one(text) for text in texts]

    def scores(self, text: str) -> dict[str, float]:
        """VADER's neg/neu/pos/compound for the whole text, each window scored once."""
        return windowed_scores(self._vader, text)

    @property
    def vader(self) -> LinearVader:
        """Its VADER (a tenant model's scorer reads the same scores: analysis/models)."""
        return self._vader

    def language(self, text: str) -> str:
        """The text's language as analyze_one detects it (an ISO 639 code, or "und")."""
        return self._languages.detect(text)

    def analyze_one(self, text: str) -> Sentiment:
        # Handles, links, entities and hashtags read as text (normalise.py); the calibration's
        # features still read the original, as they did when it was fitted.
        read = normalise_social(text)
        scores = self.scores(read)
        compound = max(-1.0, min(1.0, scores["compound"]))
        label = label_of_compound(compound)
        language = self._languages.detect(read)
        if language not in READS:
            return Sentiment(label, round(compound, 4), NOT_READ_CONFIDENCE, language, LANGUAGE_NOT_READ)
        confidence = self._calibration.confidence(label.value, features(text, scores))
        return Sentiment(label, round(compound, 4), round(confidence, 4), language)


def label_of_compound(compound: float) -> Label:
    """VADER's usual cut-offs: the lexicon's label for a compound score."""
    if compound >= POSITIVE_THRESHOLD:
        return Label.POSITIVE
    if compound <= NEGATIVE_THRESHOLD:
        return Label.NEGATIVE
    return Label.NEUTRAL


def windowed_scores(vader: LinearVader, text: str) -> dict[str, float]:
    """VADER's neg/neu/pos/compound for the whole text, each window scored once."""
    windows = _windows(text)
    if len(windows) == 1:
        return vader.polarity_scores(windows[0])
    return _combine([(len(w), vader.polarity_scores(w)) for w in windows])


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
