"""What a model reads of a text: hashed word uni- and bigrams, hashed character n-grams of each
word, and the lexicon's reading of it, all of the normalised text (text.py).

The lexicon's reading is versioned with the hashing parameters (HashingSpec.version):

- version 1: VADER's four scores (neg, neu, pos, compound) of the whole text, as the lexicon
  engine computes them: one VADER pass per text, about half of what scoring a text cost;
- version 2 (the default from 2026-12-06 to version 3): three scores built from VADER's own lexicon that a
  scorer can cache per word (valence_values): the text's summed positive and negative word
  valences (a word after a negator, VADER's NEGATE list or "n't", counts VADER's -0.74 times),
  each over (positives + negatives + tokens), and their difference normalised as VADER
  normalises its compound (x / sqrt(x² + 15)). VADER's capitals, exclamation, intensifier and
  "but" rules are left to the word and character n-grams. Held-out quality and speed of the two:
  docs/engines-and-quality.md. Version-1 artifacts still load and score with VADER.
- version 3 (the default since 2026-12-06, "Tuning round 3"): version 2 with VADER's negation
  window: a word is negated when any of the NEGATION_WINDOW tokens before it is a negator (version
  2: only the token just before it). The scorer corrects its per-pair sums for the two further
  tokens, in texts that hold a negator only.

Feature indices (the hashing parameters, HashingSpec, travel in the artifact):

    [0, word_buckets)                          word unigrams and bigrams
    [word_buckets, word_buckets+char_buckets)  byte n-grams (char_min..char_max) of each word, padded
                                               with a space on both sides (scikit-learn's char_wb)
    the last three or four                     the lexicon's reading (versions 2 and 3: three, 1: four)

A block's values are its counts divided by the square root of the block's total count (about its
L2 norm, and exactly a per-text scale): a text's score is then a sum over its words of what each
word contributes, which the scorer caches per word. The hash is CRC-32 (zlib: stable across
processes and platforms, unlike Python's hash()); an n-gram is of UTF-8 bytes, which for English
is of characters.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache

import vaderSentiment.vaderSentiment as _vader_module

from reviewpulse.analysis.lexicon_analyzer import WINDOW_TOKENS, windowed_scores
from reviewpulse.analysis.models.text import normalise
from reviewpulse.analysis.vader_linear import LinearVader

FEATURES_VERSION = 3
SUPPORTED_VERSIONS = (1, 2, 3)
# How many tokens before a word a negator negates it from, per version (VADER looks 3 back).
NEGATION_WINDOW = {2: 1, 3: 3}
VADER_FEATURES = ("neg", "neu", "pos", "compound")
VALENCE_FEATURES = ("valence_neg", "valence_pos", "valence_compound")
NEGATORS = frozenset(_vader_module.NEGATE)
NEGATED = _vader_module.N_SCALAR  # VADER's -0.74: a negated word's valence is scaled by it
COMPOUND_ALPHA = 15  # VADER's normalize(): x / sqrt(x² + alpha)
# A word (letters, digits, inner apostrophes), the handle placeholder, or any one other visible
# character: punctuation and each emoji are tokens of their own.
_TOKEN = re.compile(r"@user|\w+(?:'\w+)*|[^\w\s]")
_BIGRAM_SEPARATOR = b" "
_UNIGRAM_PREFIX = b"w"
# A bigram is hashed as this prefix, its first token, a space, its second (the scorer hashes the
# joined "first second" string's bytes after it: tokens never hold a space).
BIGRAM_PREFIX = b"b"


@dataclass(frozen=True)
class HashingSpec:
    """How texts become feature indices: part of every artifact, so a model is always scored
    with the features it was trained on."""

    word_buckets: int = 2**18
    char_buckets: int = 2**18
    char_min: int = 2
    char_max: int = 5
    version: int = FEATURES_VERSION

    @property
    def lexicon_features(self) -> tuple[str, ...]:
        return VADER_FEATURES if self.version == 1 else VALENCE_FEATURES

    @property
    def dimensions(self) -> int:
        return self.word_buckets + self.char_buckets + len(self.lexicon_features)

    @property
    def vader_offset(self) -> int:
        return self.word_buckets + self.char_buckets

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, document: dict) -> HashingSpec:
        version = int(document.get("version", 1))
        if version not in SUPPORTED_VERSIONS:
            raise ValueError(f"features version {version} is not one of {SUPPORTED_VERSIONS}")
        keys = ("word_buckets", "char_buckets", "char_min", "char_max")
        return cls(**{key: int(document[key]) for key in keys}, version=version)


def tokens(normalised: str) -> list[str]:
    return _TOKEN.findall(normalised.lower())


def is_word(token: str) -> bool:
    """Words get character n-grams; punctuation, emoji and the handle placeholder do not."""
    return token[0].isalnum() or token[0] == "_"


def unigram_index(spec: HashingSpec, token: str) -> int:
    return zlib.crc32(_UNIGRAM_PREFIX + token.encode()) % spec.word_buckets


def bigram_index(spec: HashingSpec, first: str, second: str) -> int:
    return zlib.crc32(BIGRAM_PREFIX + first.encode() + _BIGRAM_SEPARATOR + second.encode()) % spec.word_buckets


def char_indices(spec: HashingSpec, word: str) -> list[int]:
    """The character-block indices of a word's padded byte n-grams (repeats kept: they count)."""
    offset = spec.word_buckets
    return [offset + bucket for bucket in char_buckets(spec, word)]


def char_buckets(spec: HashingSpec, word: str) -> list[int]:
    """char_indices less the block's offset: each n-gram's bucket within the character block.
    Slicing, hashing and the modulo are chained maps (C loops, no Python frame per n-gram): a new
    word's n-grams are most of what a model's first pass over a batch costs."""
    padded = b" " + word.encode() + b" "
    grams = map(padded.__getitem__, ngram_slices(len(padded), spec.char_min, spec.char_max))
    return list(map(spec.char_buckets.__rmod__, map(zlib.crc32, grams)))


@lru_cache(maxsize=256)
def ngram_slices(length: int, shortest: int, longest: int) -> tuple[slice, ...]:
    """The slices of every n-gram of a sequence of this length, n from shortest to longest, each n
    in order of position (the order the sums are taken in)."""
    return tuple(slice(i, i + n) for n in range(shortest, longest + 1) for i in range(length - n + 1))


def is_negator(token: str) -> bool:
    return token in NEGATORS or "n't" in token


def valence_sums(lexicon: dict[str, float], found: Sequence[str], window: int = 1) -> tuple[float, float]:
    """(positive, negative) summed word valences of these tokens, a word with a negator among the
    `window` tokens before it scaled by NEGATED (the scorer gets the same sums from its per-word
    and per-pair caches, and for a window over 1 a correction in texts that hold a negator)."""
    positive = negative = 0.0
    for i, token in enumerate(found):
        value = lexicon.get(token, 0.0)
        if value and any(map(is_negator, found[max(0, i - window) : i])):
            value *= NEGATED
        if value > 0:
            positive += value
        else:
            negative -= value
    return positive, negative


def valence_values(positive: float, negative: float, count: int) -> tuple[float, float, float]:
    """Version 2's three lexicon features from a text's valence sums and its number of tokens."""
    total = positive + negative + count
    difference = positive - negative
    if not total:
        return (0.0, 0.0, 0.0)
    return (
        negative / total,
        positive / total,
        difference / math.sqrt(difference * difference + COMPOUND_ALPHA),
    )


def vader_values(
    vader: LinearVader, normalised: str, found: list[str] | None = None
) -> tuple[float, float, float, float]:
    """VADER's four scores of the normalised text, windowed as the lexicon scores it. `found`
    (its tokens) lets a text that is surely one window skip the window split: the split counts
    `@user` as two tokens and a word's inner apostrophe and the piece after it as two more."""
    if found is not None and len(found) + normalised.count("@") + 2 * normalised.count("'") <= WINDOW_TOKENS:
        scores = vader.polarity_scores(normalised)
    else:
        scores = windowed_scores(vader, normalised)
    return tuple(float(scores[name]) for name in VADER_FEATURES)  # type: ignore[return-value]


class Featurizer:
    """Text → sparse feature row ({index: value}), as the training code builds its matrix. The
    scorer computes the same sums without building rows (scorer.py); tests hold the two equal."""

    def __init__(self, spec: HashingSpec, vader: LinearVader | None = None) -> None:
        self.spec = spec
        self._vader = vader or LinearVader()

    def row(self, text: str) -> dict[int, float]:
        normalised = normalise(text)
        found = tokens(normalised)
        counts: dict[int, float] = {}
        word_total = 0
        for token in found:
            index = unigram_index(self.spec, token)
            counts[index] = counts.get(index, 0.0) + 1
            word_total += 1
        for first, second in zip(found, found[1:], strict=False):
            index = bigram_index(self.spec, first, second)
            counts[index] = counts.get(index, 0.0) + 1
            word_total += 1
        char_counts: dict[int, float] = {}
        char_total = 0
        for token in found:
            if is_word(token):
                for index in char_indices(self.spec, token):
                    char_counts[index] = char_counts.get(index, 0.0) + 1
                    char_total += 1
        row = {index: count / math.sqrt(word_total) for index, count in counts.items()}
        row.update({index: count / math.sqrt(char_total) for index, count in char_counts.items()})
        offset = self.spec.vader_offset
        if self.spec.version == 1:
            lexicon = vader_values(self._vader, normalised)
        else:
            window = NEGATION_WINDOW[self.spec.version]
            lexicon = valence_values(*valence_sums(self._vader.lexicon, found, window), len(found))
        for position, value in enumerate(lexicon):
            if value:
                row[offset + position] = value
        return row
