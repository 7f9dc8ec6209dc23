"""Scores texts with a model artifact in plain Python: no numpy, no scikit-learn.

A model is linear in its features and every block of features is scaled per text (features.py),
so a text's logit for a class is its intercept, plus what its words and bigrams contribute over
the square root of their count, plus what its words' character n-grams contribute over the square
root of theirs, plus VADER's four scores times their weights. What a word contributes is the same
in every text: it is computed once and cached (words follow Zipf's law: a few thousand cover most
of any batch), so a text costs a dictionary look-up per word and bigram, and one VADER pass.

Scorers are cached per process by (tenant, model id, version): an artifact is immutable under its
version, so a new version is a new scorer and an old one is never served for it.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Sequence
from functools import lru_cache
from threading import Lock

from reviewpulse.analysis.models.artifact import ModelArtifact
from reviewpulse.analysis.models.features import (
    VADER_FEATURES,
    bigram_index,
    char_indices,
    is_word,
    tokens,
    unigram_index,
    vader_values,
)
from reviewpulse.analysis.models.text import normalise
from reviewpulse.analysis.sentiment import LANGUAGE_NOT_READ, Label, Sentiment
from reviewpulse.analysis.vader_linear import LinearVader

# As the lexicon: a text in a language the model never read gets chance confidence and a flag.
NOT_READ_CONFIDENCE = round(1 / 3, 4)
READS = frozenset({"en", "und"})
# Words and bigrams whose contributions are kept (about 100 bytes each).
WORD_CACHE = 2**16
BIGRAM_CACHE = 2**16


class Scorer:
    engine = "model"

    def __init__(
        self,
        artifact: ModelArtifact,
        vader: LinearVader | None = None,
        language: Callable[[str], str] | None = None,
    ) -> None:
        self.artifact = artifact
        self._spec = artifact.spec
        self._weights = artifact.weights
        self._intercept = artifact.intercept
        self._temperature = artifact.temperature
        self._vader = vader or LinearVader()
        self._language = language
        offset = self._spec.vader_offset
        self._vader_weights = [
            tuple(row[offset + position] for row in self._weights) for position in range(len(VADER_FEATURES))
        ]
        self._word = lru_cache(maxsize=WORD_CACHE)(self._word_contribution)
        self._bigram = lru_cache(maxsize=BIGRAM_CACHE)(self._bigram_contribution)
        self._classes = artifact.classes
        self._positive = _index(artifact.classes, Label.POSITIVE.value)
        self._negative = _index(artifact.classes, Label.NEGATIVE.value)

    # -- contributions --------------------------------------------------------------------------

    def _column(self, index: int) -> tuple[float, ...]:
        return tuple(row[index] for row in self._weights)

    def _word_contribution(self, token: str) -> tuple[tuple[float, ...], tuple[float, ...], int]:
        """(unigram weights, summed char n-gram weights, number of char n-grams) of one word."""
        unigram = self._column(unigram_index(self._spec, token))
        if not is_word(token):
            return unigram, (0.0,) * len(self._weights), 0
        indices = char_indices(self._spec, token)
        # map over the bound __getitem__: the same sums in the same order, without a generator
        # frame per n-gram (this line was the cold-cache scorer's largest cost, profiled).
        chars = tuple(sum(map(row.__getitem__, indices)) for row in self._weights)
        return unigram, chars, len(indices)

    def _bigram_contribution(self, first: str, second: str) -> tuple[float, ...]:
        return self._column(bigram_index(self._spec, first, second))

    # -- scoring --------------------------------------------------------------------------------

    def logits(self, text: str) -> list[float]:
        normalised = normalise(text)
        found = tokens(normalised)
        logits = list(self._intercept)
        if found:
            words = [self._word(token) for token in found]
            word_parts = [unigram for unigram, _, _ in words]
            word_parts += [self._bigram(a, b) for a, b in zip(found, found[1:], strict=False)]
            word_scale = 1 / math.sqrt(len(word_parts))
            char_total = sum(n for _, _, n in words)
            char_scale = 1 / math.sqrt(char_total) if char_total else 0.0
            word_sums = [sum(column) for column in zip(*word_parts, strict=True)]
            char_sums = [sum(column) for column in zip(*(chars for _, chars, _ in words), strict=True)]
            for k in range(len(logits)):
                logits[k] += word_sums[k] * word_scale + char_sums[k] * char_scale
        for value, weights in zip(vader_values(self._vader, normalised), self._vader_weights, strict=True):
            if value:
                for k, weight in enumerate(weights):
                    logits[k] += value * weight
        return logits

    def probabilities(self, text: str) -> list[float]:
        """One calibrated probability per class (artifact.classes order)."""
        return softmax([z / self._temperature for z in self.logits(text)])

    def analyze(self, texts: Sequence[str]) -> list[Sentiment]:
        return [self.analyze_one(text) for text in texts]

    def analyze_one(self, text: str) -> Sentiment:
        probabilities = self.probabilities(text)
        best = max(range(len(probabilities)), key=probabilities.__getitem__)
        label = Label(self._classes[best])
        positive = probabilities[self._positive] if self._positive is not None else 0.0
        negative = probabilities[self._negative] if self._negative is not None else 0.0
        score = round(max(-1.0, min(1.0, positive - negative)), 4)
        language = self._language(text) if self._language is not None else None
        if language is not None and language not in READS:
            return Sentiment(label, score, NOT_READ_CONFIDENCE, language, LANGUAGE_NOT_READ)
        return Sentiment(label, score, round(probabilities[best], 4), language)


def softmax(logits: Sequence[float]) -> list[float]:
    top = max(logits)
    exps = [math.exp(z - top) for z in logits]
    total = sum(exps)
    return [e / total for e in exps]


def _index(classes: Sequence[str], label: str) -> int | None:
    return classes.index(label) if label in classes else None


class ScorerCache:
    """Scorers by (tenant, model id, version), the least recently used dropped beyond `size`: a
    Lambda execution environment keeps the models its tenants use warm, within its memory."""

    def __init__(self, size: int = 4) -> None:
        self._size = size
        self._scorers: OrderedDict[tuple[str, str, str], Scorer] = OrderedDict()
        self._lock = Lock()

    def get(self, key: tuple[str, str, str], build: Callable[[], Scorer]) -> Scorer:
        with self._lock:
            if key in self._scorers:
                self._scorers.move_to_end(key)
                return self._scorers[key]
        scorer = build()
        with self._lock:
            self._scorers[key] = scorer
            while len(self._scorers) > self._size:
                self._scorers.popitem(last=False)
        return scorer

    def __contains__(self, key: tuple[str, str, str]) -> bool:
        return key in self._scorers


# The process's scorers (module level: one per Lambda execution environment).
SCORERS = ScorerCache()
