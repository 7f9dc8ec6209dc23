"""Scores texts with a model artifact in plain Python: no numpy, no scikit-learn.

A model is linear in its features and every block of features is scaled per text (features.py),
so a text's logit for a class is its intercept, plus what its words and bigrams contribute over
the square root of their count, plus what its words' character n-grams contribute over the square
root of theirs, plus the lexicon features times their weights: a version-2 or -3 model's
(features.py) are built from word valences summed in the same cached look-ups, so it runs no VADER
pass (version 3 adds a short correction pass over texts that hold a negator); a
version-1 model's are VADER's four scores, one VADER pass per text. What a word contributes is the same
in every text: it is computed once and cached (words follow Zipf's law: a few thousand cover most
of any batch), and so is a token together with the bigram it starts (unigram and bigram weights
share a scale), so a text costs one dictionary look-up per token and sums taken in C (and one
VADER pass for a version-1 model). The weights are held interleaved (an index's class weights side by side), so a new word's
n-grams touch one cache line each. Speed against the lexicon: docs/engines-and-quality.md.

Scorers are cached per process by (tenant, model id, version): an artifact is immutable under its
version, so a new version is a new scorer and an old one is never served for it.
"""

from __future__ import annotations

import math
from array import array
from collections import OrderedDict
from collections.abc import Callable, Sequence
from itertools import repeat
from operator import add, getitem
from threading import Lock
from zlib import crc32

from reviewpulse.analysis.models.artifact import ModelArtifact
from reviewpulse.analysis.models.features import (
    BIGRAM_PREFIX,
    NEGATED,
    NEGATION_WINDOW,
    NEGATORS,
    char_buckets,
    is_negator,
    is_word,
    tokens,
    unigram_index,
    vader_values,
    valence_values,
)
from reviewpulse.analysis.models.text import normalise
from reviewpulse.analysis.sentiment import LANGUAGE_NOT_READ, Label, Sentiment
from reviewpulse.analysis.vader_linear import LinearVader

# As the lexicon: a text in a language the model never read gets chance confidence and a flag.
NOT_READ_CONFIDENCE = round(1 / 3, 4)
READS = frozenset({"en", "und"})
# Words, and token pairs (a token with the bigram it starts), whose contributions are kept (about
# 150 bytes each with their keys).
WORD_CACHE = 2**16
PAIR_CACHE = 2**17


_BIGRAM_CRC = crc32(BIGRAM_PREFIX)


class _Contributions(dict):
    """A bounded cache of what a key contributes: `cache[key]` computes a missing one with
    `compute` (dict.__missing__, so a hit costs one C-level look-up, no Python frame). Emptied
    when full: simpler and cheaper than LRU bookkeeping on every hit, and a batch's words warm it
    again within a few hundred texts."""

    def __init__(self, compute: Callable, size: int) -> None:
        super().__init__()
        self._compute = compute
        self._size = size

    def __missing__(self, key):
        if len(self) >= self._size:
            self.clear()
        value = self[key] = self._compute(key)
        return value


def _may_negate(normalised: str, found: list[str]) -> bool:
    """True when some token may be a negator (features.is_negator: in VADER's list, or holding
    "n't"), by checks in C: most texts hold none and skip the correction pass."""
    return not NEGATORS.isdisjoint(found) or ("'" in normalised and "n't" in normalised.lower())


class Scorer:
    engine = "model"

    def __init__(
        self,
        artifact: ModelArtifact,
        vader: LinearVader | None = None,
        language: Callable[[str], str] | None = None,
        *,
        word_cache: int = WORD_CACHE,
        pair_cache: int = PAIR_CACHE,
    ) -> None:
        self.artifact = artifact
        self._spec = artifact.spec
        self._weights = _interleaved(artifact.weights)
        start, stop = self._spec.word_buckets, self._spec.vader_offset
        self._char_weights = [view[start:stop] for view in self._weights]
        self._intercept = artifact.intercept
        self._temperature = artifact.temperature
        self._vader = vader or LinearVader()
        self._language = language
        offset = self._spec.vader_offset
        self._vader_weights = [
            tuple(row[offset + position] for row in self._weights)
            for position in range(len(self._spec.lexicon_features))
        ]
        # Version 2 reads word valences (features.valence_sums); version 1 runs VADER per text.
        self._reads_valences = self._spec.version >= 2
        # The pair entries negate the word right after a negator; a longer window is corrected per text.
        self._window = NEGATION_WINDOW.get(self._spec.version, 1)
        self._valences = self._vader.lexicon if self._reads_valences else {}
        self._k = len(artifact.classes)
        self._no_chars = (0.0,) * len(self._weights)
        self._words = _Contributions(self._word_contribution, word_cache)
        self._positions = _Contributions(self._position_contribution, pair_cache)
        self._classes = artifact.classes
        self._labels = tuple(Label(name) for name in artifact.classes)
        self._positive = _index(artifact.classes, Label.POSITIVE.value)
        self._negative = _index(artifact.classes, Label.NEGATIVE.value)

    # -- contributions --------------------------------------------------------------------------

    def _column(self, index: int) -> tuple[float, ...]:
        return tuple([row[index] for row in self._weights])

    def _word_contribution(self, token: str) -> tuple[float, ...]:
        """One flat tuple: the word's unigram weights (one per class), its char n-grams' summed
        weights (one per class), its number of char n-grams, and its positive and negative
        valence (version 2; zeros otherwise), so that a text's sums are one C-level
        `map(sum, zip(*words))`."""
        unigram = self._column(unigram_index(self._spec, token))
        valence = self._valences.get(token, 0.0)
        polarity = (valence, 0.0) if valence > 0 else (0.0, -valence)
        if not is_word(token):
            return (*unigram, *self._no_chars, 0, *polarity)
        buckets = char_buckets(self._spec, token)
        # map over the bound __getitem__ of each class's view of the character block: the sums in
        # C, without a generator frame per n-gram.
        chars = [sum(map(view.__getitem__, buckets)) for view in self._char_weights]
        return (*unigram, *chars, len(buckets), *polarity)

    def _position_contribution(self, key: str) -> tuple[float, ...]:
        """What a token contributes together with the bigram it starts: key "first second" (tokens
        never hold a space) or a text's last token alone. The unigram and bigram weights share the
        word block's scale, so they are added here, once per distinct pair, not once per text."""
        first, _, second = key.partition(" ")
        word = self._words[first]
        if not second:
            return word
        # key's bytes after the prefix are what bigram_index hashes for (first, second); the CRC
        # is continued from the prefix's (zlib's running value) instead of joining the bytes
        bigram = crc32(key.encode(), _BIGRAM_CRC) % self._spec.word_buckets
        weights = tuple(map(getitem, self._weights, repeat(bigram)))
        # Most pairs of a new batch were never a bigram of the training rows: their weights are
        # exactly zero (no text reached the column), so the token's own entry is the pair's.
        entry = (*map(add, word[: self._k], weights), *word[self._k :]) if any(weights) else word
        valence = self._valences.get(second, 0.0)
        if valence and is_negator(first):
            # the second word is negated: its valence (counted in its own entry) becomes NEGATED
            # times itself, so this pair carries the difference (features.valence_sums)
            negated = valence * NEGATED
            positive = max(negated, 0.0) - max(valence, 0.0)
            negative = max(-negated, 0.0) - max(-valence, 0.0)
            entry = (*entry[:-2], entry[-2] + positive, entry[-1] + negative)
        return entry

    # -- scoring --------------------------------------------------------------------------------

    def logits(self, text: str) -> list[float]:
        normalised = normalise(text)
        found = tokens(normalised)
        logits = list(self._intercept)
        sums = None
        if found:
            k = self._k
            # One look-up per token (with the bigram it starts) and the sums in C (map/zip/sum):
            # sums = per class the word block's sum, per class the char block's, the char count.
            keys = [f"{a} {b}" for a, b in zip(found, found[1:], strict=False)]
            keys.append(found[-1])
            sums = list(map(sum, zip(*map(self._positions.__getitem__, keys))))  # noqa: B905 (equal lengths)
            word_scale = 1 / math.sqrt(2 * len(found) - 1)  # unigrams and bigrams
            char_total = sums[2 * k]
            char_scale = 1 / math.sqrt(char_total) if char_total else 0.0
            for c in range(k):
                logits[c] += sums[c] * word_scale + sums[k + c] * char_scale
        if not self._reads_valences:
            lexicon = vader_values(self._vader, normalised, found)
        elif sums is None:
            lexicon = valence_values(0.0, 0.0, 0)
        else:
            positive, negative = sums[-2], sums[-1]
            if self._window > 1 and _may_negate(normalised, found):
                positive, negative = self._wider_negation(found, positive, negative)
            lexicon = valence_values(positive, negative, len(found))
        for value, weights in zip(lexicon, self._vader_weights, strict=True):
            if value:
                for c, weight in enumerate(weights):
                    logits[c] += value * weight
        return logits

    def _wider_negation(self, found: list[str], positive: float, negative: float) -> tuple[float, float]:
        """The valence sums with a word negated also when a negator is 2..window tokens before it
        (and none right before it: the pair entry negated that one already)."""
        window = self._window
        for i in range(2, len(found)):
            value = self._valences.get(found[i], 0.0)
            if value and not is_negator(found[i - 1]) and any(map(is_negator, found[max(0, i - window) : i - 1])):
                negated = value * NEGATED
                positive += max(negated, 0.0) - max(value, 0.0)
                negative += max(-negated, 0.0) - max(-value, 0.0)
        return positive, negative

    def probabilities(self, text: str) -> list[float]:
        """One calibrated probability per class (artifact.classes order)."""
        return softmax([z / self._temperature for z in self.logits(text)])

    def analyze(self, texts: Sequence[str]) -> list[Sentiment]:
        return [self.analyze_one(text) for text in texts]

    def analyze_one(self, text: str) -> Sentiment:
        probabilities = self.probabilities(text)
        best = probabilities.index(max(probabilities))
        label = self._labels[best]
        positive = probabilities[self._positive] if self._positive is not None else 0.0
        negative = probabilities[self._negative] if self._negative is not None else 0.0
        score = round(max(-1.0, min(1.0, positive - negative)), 4)
        language = self._language(text) if self._language is not None else None
        if language is not None and language not in READS:
            return Sentiment(label, score, NOT_READ_CONFIDENCE, language, LANGUAGE_NOT_READ)
        return Sentiment(label, score, round(probabilities[best], 4), language)


def _interleaved(rows: Sequence[array]) -> list[memoryview]:
    """The weight rows, one view per class over one array that holds an index's weights for every
    class side by side: the class weights of a hashed feature are one cache line apart instead
    of megabytes (a new word's n-grams are random indices: this halved its cost, measured).
    Built with C-level strided copies (about 10 ms for a full model); view[c][i] is row c's i."""
    k = len(rows)
    flat = array("f", bytes(4 * k * len(rows[0])))
    for c, row in enumerate(rows):
        flat[c::k] = row
    whole = memoryview(flat)
    return [whole[c::k] for c in range(k)]


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
