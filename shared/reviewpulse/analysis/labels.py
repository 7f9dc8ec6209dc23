"""Reading the labels a customer already has: the one mapping of a label column to our labels,
used by evaluation (results/evaluation.py, options.label_field) and by training (tenant models).

A column is read as a whole, because a value alone can be ambiguous ("1" is a one-star review in
a stars column and a positive one in a -1/0/1 column):

- words, any case, surrounding spaces ignored: positive / negative / neutral / mixed, and
  pos / neg / neu;
- a column whose numbers are only 0 and 1 is binary: 0 negative, 1 positive;
- a column whose numbers are only -1, 0 and 1 (with a -1): negative, neutral, positive;
- any other column with numbers is stars: 1 to 5, whole or half (4.0 reads as 4): below 3
  negative, 3 neutral, above 3 positive; any other number (0, 7, -1 among stars) is unreadable.

A star column that happens to hold only 1s therefore reads as binary (all positive): a documented
edge of a simple rule. An empty value is no label (the row is skipped, not an error); any other
value is unreadable (`invalid-label` in an evaluation, left out or refused by training).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from reviewpulse.analysis.sentiment import Label

_WORDS = {
    "positive": Label.POSITIVE,
    "pos": Label.POSITIVE,
    "negative": Label.NEGATIVE,
    "neg": Label.NEGATIVE,
    "neutral": Label.NEUTRAL,
    "neu": Label.NEUTRAL,
    "mixed": Label.MIXED,
}
_POLARITY = {-1.0: Label.NEGATIVE, 0.0: Label.NEUTRAL, 1.0: Label.POSITIVE}
_BINARY = {0.0: Label.NEGATIVE, 1.0: Label.POSITIVE}
# How many distinct unreadable values an error names (they are the customer's labels, never texts).
MAX_VALUES_NAMED = 10
MAX_VALUE_CHARS = 40


def _number(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


def _stars(number: float) -> Label | None:
    if not 1 <= number <= 5 or number * 2 != int(number * 2):  # whole or half stars only
        return None
    if number < 3:
        return Label.NEGATIVE
    return Label.NEUTRAL if number == 3 else Label.POSITIVE


@dataclass(frozen=True)
class LabelScheme:
    """How one column's values are read: `words` (it holds no numbers), `polarity` (-1/0/1),
    `binary` (0/1) or `stars`."""

    name: str

    def read(self, value: str) -> Label | None:
        """The label of `value`, or None if this scheme cannot read it (empty values never reach here)."""
        cleaned = value.strip().lower()
        if cleaned in _WORDS:
            return _WORDS[cleaned]
        number = _number(cleaned)
        if number is None:
            return None
        if self.name == "stars":
            return _stars(number)
        if self.name == "binary":
            return _BINARY.get(number)
        if self.name == "polarity":
            return _POLARITY.get(number)
        return None  # a column of words: a number in it is no label

    @classmethod
    def for_values(cls, values: Iterable[str]) -> LabelScheme:
        """The scheme that reads a column with these (non-empty) values."""
        cleaned = (v.strip().lower() for v in values)
        numbers = {n for v in cleaned if v not in _WORDS and (n := _number(v)) is not None}
        if not numbers:
            return cls("words")
        if numbers <= {0.0, 1.0}:
            return cls("binary")
        if numbers <= {-1.0, 0.0, 1.0}:
            return cls("polarity")
        return cls("stars")


class SchemeFinder:
    """LabelScheme.for_values fed one value at a time, in constant memory: the finalizer reads a
    label column once through it before its pass, so that each row's label is known readable or
    not (a per-row invalid-label in the results files) as that row is written."""

    def __init__(self) -> None:
        self._small: set[float] = set()  # the numbers met among -1, 0 and 1
        self._other = False  # a number outside them: the column is stars

    def add(self, value: str) -> None:
        cleaned = value.strip().lower()
        if not cleaned or cleaned in _WORDS or (number := _number(cleaned)) is None:
            return
        if number in (-1.0, 0.0, 1.0):
            self._small.add(number)
        else:
            self._other = True

    def scheme(self) -> LabelScheme:
        if self._other:
            return LabelScheme("stars")
        if not self._small:
            return LabelScheme("words")
        return LabelScheme("binary" if self._small <= {0.0, 1.0} else "polarity")


# What an evaluation says it read a column with (Evaluation.mapping).
MAPPING = (
    "positive/negative/neutral/mixed (any case), pos/neg/neu; numbers by the column's scale: only 0 and 1 = "
    "binary (1 positive, 0 negative); only -1, 0, 1 = 1 positive, 0 neutral, -1 negative; otherwise "
    "stars 1-5, whole or half: below 3 negative, 3 neutral, above 3 positive; anything else invalid-label; "
    "blank = unlabelled"
)


def describe_values(values: Iterable[str]) -> str:
    """Unreadable label values as an error names them: a few, each cut short, sorted."""
    distinct = sorted({v.strip()[:MAX_VALUE_CHARS] for v in values})
    shown = ", ".join(repr(v) for v in distinct[:MAX_VALUES_NAMED])
    more = len(distinct) - MAX_VALUES_NAMED
    return shown + (f" and {more} more" if more > 0 else "")
